// The `vrrp` section: one instance resolved for a role, with keepalived's traps reported (the
// weight trap first).

import { isIP } from "node:net";
import { z } from "zod";
import type { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection, SectionContext } from "../config/section.ts";
import { cidr, duration, int } from "../config/schema_types.ts";
import { didYouMean } from "../config/suggest.ts";
import type { Role } from "../config/types.ts";
import type { Cidr } from "../core/address.ts";

const obj = z.strictObject;

export const VRRP_DEFAULTS = {
  name: "VI_1",
  version: 2 as const,
  advertInterval: 1_000,
  notifyTimeout: 10_000,
  garp: { count: 5, interval: 0, repeatDelay: 5_000, repeatCount: 5 },
  script: { interval: 2_000, timeout: 2_000, rise: 1, fall: 1 },
} as const;

export interface TrackScript {
  name: string;
  command: string;
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
  /** keepalived semantics: 0 = FAULT on failure; >0 added while passing; <0 added while failing. */
  weight: number;
}

export interface VrrpConfig {
  /** Instance name used in logs and events. */
  name: string;
  routerId: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  advertInterval: number;
  auth?: { type: "pass"; password: string };
  virtualIps: { cidr: Cidr; dev?: string; label?: string }[];
  /** Effective base priority for the running role. */
  priority: number;
  preempt: boolean;
  preemptDelay: number;
  /** keepalived's `state`, kept for compatibility: every instance starts as backup (RFC 5798 §6.4.1). */
  initialState: "master" | "backup";
  unicastSrc?: string;
  unicastPeers: string[];
  track: {
    interfaces: { name: string; weight: number }[];
    /**
     * minServers: servers each tracked backend needs up (0: the proxy only has to be alive with
     * its listeners bound), or that number per backend (the others need 0).
     */
    proxy?: { weight: number; minServers: number | Record<string, number>; proxies?: string[] };
    scripts: TrackScript[];
  };
  notify: { master?: string; backup?: string; fault?: string; stop?: string; timeout: number };
  garp: { count: number; interval: number; repeatDelay: number; repeatCount: number; refresh?: number };
}

const trackScript = obj({
  command: z.string(),
  interval: duration.optional(),
  timeout: duration.optional(),
  rise: int(1, 100).optional(),
  fall: int(1, 100).optional(),
  weight: int(-253, 253).optional(),
});

/** Keys a role may override inside vrrp.roles.<role>. */
const vrrpRoleKeys = {
  priority: int(1, 255).optional(),
  interface: z.string().optional(),
  preempt: z.boolean().optional(),
  preempt_delay: duration.optional(),
  unicast_src: z.string().optional(),
  unicast_peers: z.array(z.string()).optional(),
  state: z.enum(["master", "backup", "MASTER", "BACKUP"]).optional(),
  address_owner: z.boolean().optional(),
  router_id: z.string().optional(),
};

const vrrpSchema = obj({
  ...vrrpRoleKeys,
  name: z.string().optional(),
  interface: z.string(),
  virtual_router_id: int(1, 255),
  version: z.union([z.literal(2), z.literal(3)]).optional(),
  advert_interval: duration.optional(),
  authentication: obj({ type: z.literal("pass"), password: z.union([z.string(), z.number()]) }).optional(),
  virtual_ips: z.array(z.union([cidr, obj({ address: cidr, dev: z.string().optional(), label: z.string().optional() })])),
  track: obj({
    interfaces: z.array(z.union([z.string(), obj({ name: z.string(), weight: int(-253, 253).optional() })])).optional(),
    proxy: obj({ weight: int(-253, 253).optional(), min_servers: z.union([int(0, 10_000), z.record(z.string(), int(0, 10_000))]).optional(), proxies: z.array(z.string()).optional() }).optional(),
    scripts: z.record(z.string(), trackScript).optional(),
  }).optional(),
  notify: obj({
    master: z.string().optional(),
    backup: z.string().optional(),
    fault: z.string().optional(),
    stop: z.string().optional(),
    timeout: duration.optional(),
  }).optional(),
  garp: obj({
    count: int(0, 100).optional(),
    interval: duration.optional(),
    repeat_delay: duration.optional(),
    repeat_count: int(0, 100).optional(),
    refresh: duration.optional(),
  }).optional(),
  roles: z.record(z.string(), obj(vrrpRoleKeys)),
});

type VrrpInput = z.output<typeof vrrpSchema>;

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
function resolveVrrp(v: VrrpInput, ctx: SectionContext, diag: Diagnostics): VrrpConfig {
  const role = ctx.role;
  if (ctx.firstRole) checkRoles(v, diag);
  const r = { ...v, ...v.roles[role] };
  const version = v.version ?? VRRP_DEFAULTS.version;
  if (v.authentication && version === 3) diag.error(["vrrp", "authentication"], "authentication exists in VRRPv2 only (RFC 5798 removed it)", "remove it, or set version: 2");
  const password = v.authentication ? String(v.authentication.password) : undefined;
  if (password !== undefined && ctx.firstRole && Buffer.byteLength(password) > 8) {
    diag.warn(["vrrp", "authentication", "password"], "only the first 8 bytes of the password are sent (RFC 3768 §5.3.10)");
  }
  const advert = v.advert_interval ?? VRRP_DEFAULTS.advertInterval;
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
  const scripts: TrackScript[] = Object.entries(v.track?.scripts ?? {}).map(([name, s]) => ({
    name,
    command: s.command,
    interval: s.interval ?? VRRP_DEFAULTS.script.interval,
    timeout: s.timeout ?? s.interval ?? VRRP_DEFAULTS.script.timeout,
    rise: s.rise ?? VRRP_DEFAULTS.script.rise,
    fall: s.fall ?? VRRP_DEFAULTS.script.fall,
    weight: s.weight ?? 0,
  }));
  const state = (r.state ?? role).toLowerCase() as "master" | "backup";
  return {
    name: v.name ?? VRRP_DEFAULTS.name,
    routerId: r.router_id ?? (ctx.input.global as { hostname?: string } | undefined)?.hostname ?? "tandem",
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

export const vrrpSection: ConfigSection<{ vrrp?: VrrpConfig }> = {
  name: "vrrp",
  keys: { vrrp: vrrpSchema.optional() },
  normalize(ctx, diag) {
    const v = ctx.input.vrrp as VrrpInput | undefined;
    return { vrrp: v ? resolveVrrp(v, ctx, diag) : undefined };
  },
  check(config, ctx, diag) {
    const v = ctx.input.vrrp as VrrpInput | undefined;
    const frontends = (config.frontends ?? []) as { name: string }[];
    const names = new Set(frontends.map((f) => f.name));
    (v?.track?.proxy?.proxies ?? []).forEach((p, i) => {
      if (!names.has(p)) diag.error(["vrrp", "track", "proxy", "proxies", i], `unknown proxy "${p}"`, didYouMean(p, names));
    });
    const min = v?.track?.proxy?.min_servers;
    const backends = new Set(((config.backends ?? []) as { name: string }[]).map((b) => b.name));
    if (typeof min === "object") {
      for (const b of Object.keys(min)) if (!backends.has(b)) diag.error(["vrrp", "track", "proxy", "min_servers", b], `unknown backend "${b}"`, didYouMean(b, backends));
    }
  },
  roles(input) {
    const v = input.vrrp as VrrpInput | undefined;
    return v ? Object.keys(v.roles) : undefined;
  },
};
