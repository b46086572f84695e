// The vrrp section resolved for one role, with keepalived's traps reported (the weight trap first).

import { isIP } from "node:net";
import type { ConfigInput } from "./schema.ts";
import type { Diagnostics } from "./diagnostics.ts";
import type { FrontendConfig, Role, TrackScript, VrrpConfig } from "./types.ts";
import { DEFAULTS } from "./defaults.ts";
import { didYouMean } from "./suggest.ts";

type VrrpInput = NonNullable<ConfigInput["vrrp"]>;

/** Base priority of a role: its own, else the section's; undefined when neither is set. */
export function rolePriority(v: VrrpInput, role: Role): number | undefined {
  return v.roles[role]?.priority ?? v.priority;
}

/** The tracked checks with a weight, as [path, label, weight], for the weight-trap warning. */
function weightedTracks(v: VrrpInput): [(string | number)[], string, number][] {
  const out: [(string | number)[], string, number][] = [];
  (v.track?.interfaces ?? []).forEach((t, i) => {
    if (typeof t !== "string" && t.weight) out.push([["vrrp", "track", "interfaces", i, "weight"], `interface "${t.name}"`, t.weight]);
  });
  if (v.track?.proxy?.weight) out.push([["vrrp", "track", "proxy", "weight"], "the proxy", v.track.proxy.weight]);
  for (const [name, s] of Object.entries(v.track?.scripts ?? {})) {
    const w = s.weight ?? 0;
    if (w !== 0) out.push([["vrrp", "track", "scripts", name, "weight"], `script "${name}"`, w]);
  }
  return out;
}

/** Checks that concern both roles at once; called once per file. */
function checkRoles(v: VrrpInput, diag: Diagnostics): void {
  for (const name of Object.keys(v.roles)) {
    if (name !== "master" && name !== "backup") diag.error(["vrrp", "roles", name], `unknown role "${name}"`, didYouMean(name, ["master", "backup"]) ?? "roles are master and backup", true);
  }
  for (const role of ["master", "backup"] as const) {
    if (!v.roles[role]) diag.error(["vrrp", "roles"], `role "${role}" is not defined`, `add roles: { ${role}: { priority: ... } } so the same file serves both hosts`, true);
    const p = rolePriority(v, role);
    if (v.roles[role] && p === undefined) diag.error(["vrrp", "roles", role], `role "${role}" has no priority`, "priority must be 1..254", true);
    if (p === 255 && !(v.roles[role]?.address_owner ?? v.address_owner)) {
      diag.error(["vrrp", "roles", role, "priority"], "priority 255 is only for the address owner (RFC 5798 §5.2.4)", "use 1..254, or set address_owner: true if this host really owns the VIP");
    }
  }
  const pm = rolePriority(v, "master");
  const pb = rolePriority(v, "backup");
  if (pm === undefined || pb === undefined) return;
  if (pm <= pb) diag.warn(["vrrp", "roles", "master", "priority"], `the master's priority ${pm} is not above the backup's ${pb}: the backup will win or tie`);
  const gap = pm - pb;
  for (const [path, label, w] of weightedTracks(v)) {
    if (Math.abs(w) > gap) continue;
    const detail = w > 0
      ? `while ${label} fails on the master it has ${pm} and the backup ${pb + w}`
      : `while ${label} fails on the master it has ${pm + w} and the backup ${pb}`;
    diag.warn(path, `weight ${w} can never move the VIP: ${detail}; |weight| must exceed ${pm} − ${pb} = ${gap}`, `use a weight above ${gap} or below −${gap}, or weight 0 to go FAULT while it fails`);
  }
}

/** Resolves the vrrp section for role and reports what is wrong with it. */
export function checkVrrp(input: ConfigInput, role: Role, frontends: FrontendConfig[], diag: Diagnostics): VrrpConfig {
  const v = input.vrrp!;
  if (role === "master") checkRoles(v, diag);
  const r = { ...v, ...v.roles[role] };
  const version = v.version ?? DEFAULTS.vrrp.version;
  if (v.authentication && version === 3) diag.error(["vrrp", "authentication"], "authentication exists in VRRPv2 only (RFC 5798 removed it)", "remove it, or set version: 2");
  const password = v.authentication ? String(v.authentication.password) : undefined;
  if (password !== undefined && role === "master" && Buffer.byteLength(password) > 8) {
    diag.warn(["vrrp", "authentication", "password"], "only the first 8 bytes of the password are sent (RFC 3768 §5.3.10)");
  }
  const advert = v.advert_interval ?? DEFAULTS.vrrp.advertInterval;
  if (version === 2 && advert % 1000 !== 0) diag.error(["vrrp", "advert_interval"], `VRRPv2 advertises in whole seconds; ${advert}ms is not`, "use 1s, 2s..., or version: 3 for centiseconds");
  if (version === 3 && (advert < 10 || advert > 40950 || advert % 10 !== 0)) diag.error(["vrrp", "advert_interval"], `VRRPv3 advert interval must be 10ms..40.95s in steps of 10ms; got ${advert}ms`);
  if (version === 2 && (advert < 1000 || advert > 255_000)) diag.error(["vrrp", "advert_interval"], `VRRPv2 advert interval must be 1s..255s; got ${advert}ms`);
  if (r.unicast_peers !== undefined) {
    const path = v.roles[role]?.unicast_peers ? ["vrrp", "roles", role, "unicast_peers"] : ["vrrp", "unicast_peers"];
    if (r.unicast_peers.length === 0) diag.error(path, "unicast_peers is empty: no advert would reach the peer", "list the other host's address; tandem never falls back to multicast silently");
    r.unicast_peers.forEach((p, i) => {
      if (isIP(p) !== 4) diag.error([...path, i], `"${p}" is not an IPv4 address`);
    });
  }
  if (r.unicast_src !== undefined && isIP(r.unicast_src) !== 4) diag.error(["vrrp", "unicast_src"], `"${r.unicast_src}" is not an IPv4 address`);
  const vips = v.virtual_ips.map((x) => ("prefix" in x ? { cidr: x } : { cidr: x.address, dev: x.dev, label: x.label }));
  vips.forEach((x, i) => {
    if (x.cidr.family !== 4) diag.error(["vrrp", "virtual_ips", i], "IPv6 virtual IPs are not supported yet", "VRRP for IPv6 needs its own instance; use IPv4");
  });
  if (vips.length === 0) diag.error(["vrrp", "virtual_ips"], "no virtual IP: VRRP would float nothing");
  const names = new Set(frontends.map((f) => f.name));
  (v.track?.proxy?.proxies ?? []).forEach((p, i) => {
    if (!names.has(p)) diag.error(["vrrp", "track", "proxy", "proxies", i], `unknown proxy "${p}"`, didYouMean(p, names));
  });
  const scripts: TrackScript[] = Object.entries(v.track?.scripts ?? {}).map(([name, s]) => ({
    name,
    command: s.command,
    interval: s.interval ?? DEFAULTS.vrrp.script.interval,
    timeout: s.timeout ?? s.interval ?? DEFAULTS.vrrp.script.timeout,
    rise: s.rise ?? DEFAULTS.vrrp.script.rise,
    fall: s.fall ?? DEFAULTS.vrrp.script.fall,
    weight: s.weight ?? 0,
  }));
  const state = (r.state ?? role).toLowerCase() as "master" | "backup";
  return {
    name: v.name ?? DEFAULTS.vrrp.name,
    routerId: r.router_id ?? input.global?.hostname ?? "tandem",
    interface: r.interface ?? v.interface,
    vrid: v.virtual_router_id,
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
      proxy: v.track?.proxy ? { weight: v.track.proxy.weight ?? 0, minServers: v.track.proxy.min_servers ?? 1, proxies: v.track.proxy.proxies } : undefined,
      scripts,
    },
    notify: { master: v.notify?.master, backup: v.notify?.backup, fault: v.notify?.fault, stop: v.notify?.stop, timeout: v.notify?.timeout ?? DEFAULTS.vrrp.notifyTimeout },
    garp: {
      count: v.garp?.count ?? DEFAULTS.vrrp.garp.count,
      interval: v.garp?.interval ?? DEFAULTS.vrrp.garp.interval,
      repeatDelay: v.garp?.repeat_delay ?? DEFAULTS.vrrp.garp.repeatDelay,
      repeatCount: v.garp?.repeat_count ?? DEFAULTS.vrrp.garp.repeatCount,
      refresh: v.garp?.refresh,
    },
  };
}
