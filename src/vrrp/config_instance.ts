// One VRRP instance of the `vrrp` section resolved for a role, with keepalived's traps reported
// (the weight trap first) and RFC 5798's one-family-per-instance rule.

import type { Diagnostics } from "../config/diagnostics.ts";
import type { SectionContext } from "../config/section.ts";
import { didYouMean } from "../config/suggest.ts";
import type { Role } from "../config/types.ts";
import { ipFamily } from "../core/address.ts";
import type { TrackScript, VrrpConfig } from "./config_types.ts";
import type { InstanceInput } from "./config_schema.ts";

type Path = (string | number)[];

export const VRRP_DEFAULTS = {
  name: "VI_1",
  version: 2 as const,
  advertInterval: 1_000,
  notifyTimeout: 10_000,
  garp: { count: 5, interval: 0, repeatDelay: 5_000, repeatCount: 5 },
  script: { interval: 2_000, timeout: 2_000, rise: 1, fall: 1 },
} as const;

/** Base priority of a role: its own, else the instance's; undefined when neither is set. */
export function rolePriority(v: InstanceInput, role: Role): number | undefined {
  return v.roles[role]?.priority ?? v.priority;
}

/** The tracked checks with a weight, as [path, label, weight], for the weight-trap warning. */
function weightedTracks(v: InstanceInput, at: Path): [Path, string, number][] {
  const out: [Path, string, number][] = [];
  (v.track?.interfaces ?? []).forEach((t, i) => {
    if (typeof t !== "string" && t.weight) out.push([[...at, "track", "interfaces", i, "weight"], `interface "${t.name}"`, t.weight]);
  });
  if (v.track?.proxy?.weight) out.push([[...at, "track", "proxy", "weight"], "the proxy", v.track.proxy.weight]);
  for (const [name, s] of Object.entries(v.track?.scripts ?? {})) {
    const w = s.weight ?? 0;
    if (w !== 0) out.push([[...at, "track", "scripts", name, "weight"], `script "${name}"`, w]);
  }
  return out;
}

/**
 * Checks that concern both roles at once; called once per file. `single`: the file's only
 * instance, where the master role holding the lower priority is a mistake; with several, it is
 * how the other host holds this instance (active/active).
 */
function checkRoles(v: InstanceInput, at: Path, single: boolean, diag: Diagnostics): void {
  for (const name of Object.keys(v.roles)) {
    if (name !== "master" && name !== "backup") diag.error([...at, "roles", name], `unknown role "${name}"`, didYouMean(name, ["master", "backup"]) ?? "roles are master and backup", true);
  }
  for (const role of ["master", "backup"] as const) {
    if (!v.roles[role]) diag.error([...at, "roles"], `role "${role}" is not defined`, `add roles: { ${role}: { priority: ... } } so the same file serves both hosts`, true);
    const p = rolePriority(v, role);
    if (v.roles[role] && p === undefined) diag.error([...at, "roles", role], `role "${role}" has no priority`, "priority must be 1..254", true);
    if (p === 255 && !(v.roles[role]?.address_owner ?? v.address_owner)) {
      diag.error([...at, "roles", role, "priority"], "priority 255 is only for the address owner (RFC 5798 §5.2.4)", "use 1..254, or set address_owner: true if this host really owns the VIP");
    }
  }
  const pm = rolePriority(v, "master");
  const pb = rolePriority(v, "backup");
  if (pm === undefined || pb === undefined) return;
  if (single && pm <= pb) diag.warn([...at, "roles", "master", "priority"], `the master's priority ${pm} is not above the backup's ${pb}: the backup will win or tie`);
  else if (pm === pb) diag.warn([...at, "roles", "master", "priority"], `the master's priority ${pm} equals the backup's: the host with the higher address holds the instance`);
  // Active/active: an instance whose backup role has the higher priority is the other host's to hold.
  const [hi, lo, hiRole, loRole] = pm >= pb ? [pm, pb, "master", "backup"] : [pb, pm, "backup", "master"];
  const gap = hi - lo;
  for (const [path, label, w] of weightedTracks(v, at)) {
    if (Math.abs(w) > gap || gap === 0) continue;
    const detail = w > 0
      ? `while ${label} fails on the ${hiRole} it has ${hi} and the ${loRole} ${lo + w}`
      : `while ${label} fails on the ${hiRole} it has ${hi + w} and the ${loRole} ${lo}`;
    diag.warn(path, `weight ${w} can never move the VIP: ${detail}; |weight| must exceed ${hi} − ${lo} = ${gap}`, `use a weight above ${gap} or below −${gap}, or weight 0 to go FAULT while it fails`);
  }
}

/**
 * Resolves one instance for ctx.role and reports what is wrong with it at `at` (its path in the
 * file). `name` is the instance's name; `single`: written in the one-instance form.
 */
export function resolveInstance(v: InstanceInput, name: string, at: Path, single: boolean, ctx: SectionContext, diag: Diagnostics): VrrpConfig {
  const role = ctx.role;
  if (ctx.firstRole) checkRoles(v, at, single, diag);
  const r = { ...v, ...v.roles[role] };
  const vips = v.virtual_ips.map((x) => ("prefix" in x ? { cidr: x } : { cidr: x.address, dev: x.dev, label: x.label }));
  if (vips.length === 0) diag.error([...at, "virtual_ips"], "no virtual IP: VRRP would float nothing");
  // RFC 5798 §5.2.9: an advertisement carries addresses of one family; keepalived refuses a mix too.
  const family = vips[0]?.cidr.family ?? 4;
  vips.forEach((x, i) => {
    if (x.cidr.family !== family) {
      diag.error([...at, "virtual_ips", i], `an IPv${x.cidr.family} address in an IPv${family} instance: one VRRP instance carries one address family (RFC 5798 §5.2.9)`, `put the IPv${x.cidr.family} virtual IPs in an instance of their own`);
    }
  });
  vips.forEach((x, i) => {
    if (x.label && x.cidr.family === 6) diag.error([...at, "virtual_ips", i, "label"], "labels (aliases such as eth0:1) exist for IPv4 addresses only");
  });
  // VRRP for IPv6 exists in version 3 only (RFC 5798 §1); keepalived uses 3 for it.
  const version = v.version ?? (family === 6 ? 3 : VRRP_DEFAULTS.version);
  if (family === 6 && version === 2) {
    const i = vips.findIndex((x) => x.cidr.family === 6);
    diag.error([...at, "virtual_ips", Math.max(0, i)], "an IPv6 virtual IP needs VRRP version 3 (VRRPv2, RFC 3768, is IPv4 only)", "set version: 3, or leave version out");
  }
  if (v.authentication && version === 3) diag.error([...at, "authentication"], "authentication exists in VRRPv2 only (RFC 5798 removed it)", "remove it, or set version: 2");
  const password = v.authentication ? String(v.authentication.password) : undefined;
  if (password !== undefined && ctx.firstRole && Buffer.byteLength(password) > 8) {
    diag.warn([...at, "authentication", "password"], "only the first 8 bytes of the password are sent (RFC 3768 §5.3.10)");
  }
  const advert = v.advert_interval ?? VRRP_DEFAULTS.advertInterval;
  if (version === 2 && advert % 1000 !== 0) diag.error([...at, "advert_interval"], `VRRPv2 advertises in whole seconds; ${advert}ms is not`, "use 1s, 2s..., or version: 3 for centiseconds");
  if (version === 3 && (advert < 10 || advert > 40950 || advert % 10 !== 0)) diag.error([...at, "advert_interval"], `VRRPv3 advert interval must be 10ms..40.95s in steps of 10ms; got ${advert}ms`);
  if (version === 2 && (advert < 1000 || advert > 255_000)) diag.error([...at, "advert_interval"], `VRRPv2 advert interval must be 1s..255s; got ${advert}ms`);
  const ipv = `an IPv${family} address`;
  if (r.unicast_peers !== undefined) {
    const path = v.roles[role]?.unicast_peers ? [...at, "roles", role, "unicast_peers"] : [...at, "unicast_peers"];
    if (r.unicast_peers.length === 0) diag.error(path, "unicast_peers is empty: no advert would reach the peer", "list the other host's address; tandem never falls back to multicast silently");
    r.unicast_peers.forEach((p, i) => {
      if (ipFamily(p) !== family) diag.error([...path, i], `"${p}" is not ${ipv}`, ipFamily(p) ? `the instance's virtual IPs are IPv${family}: its peers must be too` : undefined);
    });
  }
  if (r.unicast_src !== undefined && ipFamily(r.unicast_src) !== family) {
    const path = v.roles[role]?.unicast_src ? [...at, "roles", role, "unicast_src"] : [...at, "unicast_src"];
    diag.error(path, `"${r.unicast_src}" is not ${ipv}`);
  }
  const scripts: TrackScript[] = Object.entries(v.track?.scripts ?? {}).map(([sname, s]) => ({
    name: sname,
    command: s.command,
    interval: s.interval ?? VRRP_DEFAULTS.script.interval,
    timeout: s.timeout ?? s.interval ?? VRRP_DEFAULTS.script.timeout,
    rise: s.rise ?? VRRP_DEFAULTS.script.rise,
    fall: s.fall ?? VRRP_DEFAULTS.script.fall,
    weight: s.weight ?? 0,
  }));
  const state = (r.state ?? role).toLowerCase() as "master" | "backup";
  const p = v.track?.proxy;
  return {
    name,
    routerId: r.router_id ?? (ctx.input.global as { hostname?: string } | undefined)?.hostname ?? "tandem",
    interface: r.interface ?? v.interface,
    vrid: v.virtual_router_id,
    family,
    version,
    advertInterval: advert,
    auth: password !== undefined ? { type: "pass", password } : undefined,
    virtualIps: vips,
    priority: rolePriority(v, role) ?? (role === "master" ? 100 : 50),
    preempt: r.preempt ?? true,
    preemptDelay: r.preempt_delay ?? 0,
    initialState: state,
    unicastSrc: r.unicast_src,
    unicastPeers: r.unicast_peers ?? [],
    track: {
      interfaces: (v.track?.interfaces ?? []).map((t) => (typeof t === "string" ? { name: t, weight: 0 } : { name: t.name, weight: t.weight ?? 0 })),
      proxy: p ? { weight: p.weight ?? 0, minServers: p.min_servers ?? 1, proxies: p.proxies } : undefined,
      scripts,
    },
    notify: { master: v.notify?.master, backup: v.notify?.backup, fault: v.notify?.fault, stop: v.notify?.stop, timeout: v.notify?.timeout ?? VRRP_DEFAULTS.notifyTimeout },
    garp: {
      count: v.garp?.count ?? VRRP_DEFAULTS.garp.count,
      interval: v.garp?.interval ?? VRRP_DEFAULTS.garp.interval,
      repeatDelay: v.garp?.repeat_delay ?? VRRP_DEFAULTS.garp.repeatDelay,
      repeatCount: v.garp?.repeat_count ?? VRRP_DEFAULTS.garp.repeatCount,
      refresh: v.garp?.refresh,
    },
  };
}
