// The `vrrp` section: one instance (the original form) or several by name with sync groups,
// resolved for a role; checks across instances (VRIDs, sync group members) and proxy references.

import type { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection, SectionContext } from "../config/section.ts";
import { didYouMean } from "../config/suggest.ts";
import { canonicalIp } from "../core/address.ts";
import type { SyncGroupConfig, VrrpConfig, VrrpSectionConfig } from "./config_types.ts";
import { resolveInstance, VRRP_DEFAULTS } from "./config_instance.ts";
import { REQUIRED_KEYS, vrrpSchema, type InstanceInput, type VrrpInput } from "./config_schema.ts";

export type { TrackProxy, TrackScript, VrrpConfig, VrrpSectionConfig, SyncGroupConfig } from "./config_types.ts";
export { rolePriority, VRRP_DEFAULTS } from "./config_instance.ts";

type Path = (string | number)[];

const isMulti = (v: VrrpInput) => v.instances !== undefined;

/** The one-instance form without one of its required keys cannot be resolved. */
const incomplete = (v: VrrpInput) => !isMulti(v) && REQUIRED_KEYS.some((k) => v[k] === undefined);

/** The instances as written: [name, input, path in the file]. */
function writtenInstances(v: VrrpInput): [string, InstanceInput, Path][] {
  if (isMulti(v)) return Object.entries(v.instances ?? {}).map(([name, i]) => [name, i, ["vrrp", "instances", name]]);
  if (incomplete(v)) return [];
  const { name, instances: _i, sync_groups: _g, ...inst } = v;
  return [[name ?? VRRP_DEFAULTS.name, inst as InstanceInput, ["vrrp"]]];
}

/** Reports a file that mixes the two forms, or leaves out what the one-instance form needs. */
function checkForm(v: VrrpInput, diag: Diagnostics): void {
  if (isMulti(v)) {
    for (const key of Object.keys(v)) {
      if (key === "instances" || key === "sync_groups" || v[key as keyof VrrpInput] === undefined) continue;
      diag.error(["vrrp", key], `"${key}" belongs to an instance: with instances:, each instance is written in full under vrrp.instances.NAME`, `move "${key}" into each instance that needs it`, true);
    }
    return;
  }
  if (v.sync_groups !== undefined) diag.error(["vrrp", "sync_groups"], "sync_groups ties instances written under vrrp.instances", "write the instances by name under instances:", true);
  for (const key of REQUIRED_KEYS) if (v[key] === undefined) diag.error(["vrrp"], `missing required key "${key}"`, undefined, true);
}

/** Sync groups as written: name, members with the path of each, notify. */
function writtenGroups(v: VrrpInput): { name: string; members: [string, Path][]; notify?: InstanceInput["notify"] }[] {
  if (!isMulti(v)) return [];
  return Object.entries(v.sync_groups ?? {}).map(([name, g]) => {
    const list = Array.isArray(g) ? g : g.instances;
    const base: Path = Array.isArray(g) ? ["vrrp", "sync_groups", name] : ["vrrp", "sync_groups", name, "instances"];
    return { name, members: list.map((m, i) => [m, [...base, i]] as [string, Path]), notify: Array.isArray(g) ? undefined : g.notify };
  });
}

/** Two instances on one link and family with one VRID are one virtual router (RFC 5798 §5.2.3). */
function checkVrids(instances: VrrpConfig[], paths: Map<string, Path>, diag: Diagnostics): void {
  const seen = new Map<string, VrrpConfig>();
  for (const inst of instances) {
    const key = `${inst.interface}|${inst.family}|${inst.vrid}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, inst);
      continue;
    }
    diag.error([...paths.get(inst.name)!, "virtual_router_id"], `VRID ${inst.vrid} on "${inst.interface}" (IPv${inst.family}) is already instance "${first.name}"'s: two instances with one VRID on one link are the same virtual router`, "give each instance on an interface its own virtual_router_id (IPv4 and IPv6 may share one)");
  }
}

/** Resolves the sync groups and reports unknown, repeated and shared members. */
function resolveGroups(v: VrrpInput, instances: VrrpConfig[], ctx: SectionContext, diag: Diagnostics): SyncGroupConfig[] {
  const names = new Set(instances.map((i) => i.name));
  const owner = new Map<string, string>();
  const out: SyncGroupConfig[] = [];
  for (const g of writtenGroups(v)) {
    const members: string[] = [];
    for (const [m, path] of g.members) {
      if (!names.has(m)) {
        diag.error(path, `unknown instance "${m}" in sync group "${g.name}"`, didYouMean(m, names) ?? `instances are: ${[...names].join(", ")}`);
      } else if (members.includes(m)) {
        diag.error(path, `instance "${m}" is listed twice in sync group "${g.name}"`);
      } else if (owner.has(m)) {
        diag.error(path, `instance "${m}" is already in sync group "${owner.get(m)}": an instance can be in one sync group only`);
      } else {
        members.push(m);
        owner.set(m, g.name);
      }
    }
    if (ctx.firstRole && g.members.length < 2) diag.warn(["vrrp", "sync_groups", g.name], `sync group "${g.name}" has ${g.members.length} member${g.members.length === 1 ? "" : "s"}: nothing to keep in step`, "a sync group ties two or more instances together");
    out.push({ name: g.name, instances: members, notify: { ...g.notify, timeout: g.notify?.timeout ?? VRRP_DEFAULTS.notifyTimeout } });
  }
  for (const inst of instances) inst.syncGroup = owner.get(inst.name);
  return out;
}

/** Resolves the section for ctx.role. */
function resolveSection(v: VrrpInput, ctx: SectionContext, diag: Diagnostics): VrrpSectionConfig {
  checkForm(v, diag);
  const written = writtenInstances(v);
  const single = !isMulti(v);
  if (!single && written.length === 0) diag.error(["vrrp", "instances"], "no instance: VRRP would float nothing");
  const paths = new Map(written.map(([name, , path]) => [name, path]));
  const instances = written.map(([name, input, path]) => resolveInstance(input, name, path, single, ctx, diag));
  checkVrids(instances, paths, diag);
  return { instances, syncGroups: resolveGroups(v, instances, ctx, diag) };
}

/** What the proxy section resolved to, as far as VRRP's checks and tracking read it. */
export interface ProxyView {
  frontends?: { name: string; binds: { host: string }[]; defaultBackend?: string; useBackend?: { backend: string }[] }[];
  backends?: { name: string }[];
}

/**
 * The proxies an instance's VIPs carry (`track.proxy.proxies: bound`): the frontends listening on
 * one of its VIPs and the backends they route to.
 */
export function boundProxies(inst: VrrpConfig, config: ProxyView): string[] {
  const vips = new Set(inst.virtualIps.map((v) => canonicalIp(v.cidr.address)));
  const out = new Set<string>();
  for (const f of config.frontends ?? []) {
    if (!f.binds.some((b) => vips.has(canonicalIp(b.host)))) continue;
    out.add(f.name);
    if (f.defaultBackend) out.add(f.defaultBackend);
    for (const u of f.useBackend ?? []) out.add(u.backend);
  }
  return [...out];
}

export const vrrpSection: ConfigSection<{ vrrp?: VrrpSectionConfig }> = {
  name: "vrrp",
  keys: { vrrp: vrrpSchema.optional() },
  normalize(ctx, diag) {
    const v = ctx.input.vrrp as VrrpInput | undefined;
    return { vrrp: v ? resolveSection(v, ctx, diag) : undefined };
  },
  check(config, ctx, diag) {
    const v = ctx.input.vrrp as VrrpInput | undefined;
    if (!v || !config.vrrp) return;
    const view = config as ProxyView;
    const names = new Set((view.frontends ?? []).map((f) => f.name));
    const paths = new Map(writtenInstances(v).map(([name, , path]) => [name, path]));
    const backends = new Set((view.backends ?? []).map((b) => b.name));
    for (const inst of config.vrrp.instances) {
      const min = inst.track.proxy?.minServers;
      if (typeof min === "object") {
        for (const b of Object.keys(min)) if (!backends.has(b)) diag.error([...(paths.get(inst.name) ?? ["vrrp"]), "track", "proxy", "min_servers", b], `unknown backend "${b}"`, didYouMean(b, backends));
      }
      const at = [...(paths.get(inst.name) ?? ["vrrp"]), "track", "proxy", "proxies"];
      const proxies = inst.track.proxy?.proxies;
      if (proxies === "bound") {
        if (boundProxies(inst, view).length === 0) diag.error(at, `no proxy listens on a virtual IP of instance "${inst.name}" (${inst.virtualIps.map((x) => x.cidr.address).join(", ")})`, "bind a frontend to the VIP, or name the proxies to track");
        continue;
      }
      (proxies ?? []).forEach((p, i) => {
        if (!names.has(p)) diag.error([...at, i], `unknown proxy "${p}"`, didYouMean(p, names));
      });
    }
  },
  roles(input) {
    const v = input.vrrp as VrrpInput | undefined;
    if (!v) return undefined;
    const roles = new Set(writtenInstances(v).flatMap(([, i]) => Object.keys(i.roles ?? {})));
    return roles.size ? [...roles] : undefined;
  },
};
