// The `bgp` section: its schema, defaults, resolution and checks (docs/config.md "bgp").

import { isIP } from "node:net";
import { z } from "zod";
import { cidr, duration, int } from "../config/schema_types.ts";
import type { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import { didYouMean } from "../config/suggest.ts";
import type { Cidr } from "../core/address.ts";
import { MD5_MAX_KEY } from "../runtime/tcp_connect.ts";
import { COMMUNITY } from "./update.ts";

/** Defaults of the section, in one place so docs/config.md and the code agree. */
export const BGP_DEFAULTS = {
  port: 179,
  /** Seconds: a dead node is withdrawn by its routers within this (RFC 4271 allows 3 at least). */
  holdTime: 3,
  localPref: 100,
  interface: "lo",
  announceDelay: 2_000,
  withdrawWait: 2_000,
  gracefulShutdown: 0,
  /** TTL toward a multihop external peer when `multihop: true`. */
  multihopTtl: 255,
} as const;

const obj = z.strictObject;
const MAX_AS = 4294967295;
/** RFC 6793 §9: the 2-byte stand-in for a 4-byte AS; never an AS of its own. */
const AS_TRANS = 23456;

/** An AS number: 65000, or asdot "1.10" (= 65546, RFC 5396). */
const asNumber = z.union([int(1, MAX_AS), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") return v;
  const m = /^(\d+)\.(\d+)$/.exec(v.trim()) ?? /^(\d+)$/.exec(v.trim());
  const n = m ? (m[2] !== undefined ? Number(m[1]) * 65536 + Number(m[2]) : Number(m[1])) : NaN;
  if (!m || !Number.isInteger(n) || n < 1 || n > MAX_AS || (m[2] !== undefined && (Number(m[1]) > 65535 || Number(m[2]) > 65535))) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not an AS number`, params: { hint: "write 65000, 4200000000 or asdot 1.10; 1..4294967295" } });
    return z.NEVER;
  }
  return n;
});

const peerSchema = obj({
  address: z.string({ error: "every peer needs an address" }),
  as: asNumber,
  port: int(1, 65535).optional(),
  password: z.string().optional(),
  hold_time: duration.optional(),
  multihop: z.union([z.boolean(), int(1, 255)]).optional(),
});

const announceSchema = z.union([cidr, obj({ address: cidr, proxies: z.array(z.string()).optional() })]);

/** The YAML shape of `bgp:`. */
export const bgpSchema = obj({
  local_as: asNumber,
  router_id: z.string().optional(),
  peers: z.array(peerSchema),
  announce: z.array(announceSchema),
  communities: z.array(z.union([z.string(), z.number()])).optional(),
  med: int(0, MAX_AS).optional(),
  local_pref: int(0, MAX_AS).optional(),
  hold_time: duration.optional(),
  interface: z.string().optional(),
  announce_delay: duration.optional(),
  withdraw_wait: duration.optional(),
  graceful_shutdown: duration.optional(),
});

export type BgpInput = z.output<typeof bgpSchema>;

export interface BgpPeerConfig {
  /** Address, or [address]:port when the port is not 179: how logs and stats name it. */
  name: string;
  address: string;
  family: 4 | 6;
  port: number;
  as: number;
  password?: string;
  /** Seconds (0 or 3..65535). */
  holdTime: number;
  /** TTL of our packets: 1 toward a directly connected external peer; the multihop value; else the system's. */
  ttl?: number;
}

export interface BgpAnnounce {
  prefix: Cidr;
  /**
   * Proxies that must be healthy for it to be announced, as written; absent: the frontends bound
   * to the address and their default backends (see withProxies).
   */
  proxies?: string[];
}

export interface BgpConfig {
  localAs: number;
  /** Absent: the address this host uses toward the first IPv4 peer, found at start. */
  routerId?: string;
  peers: BgpPeerConfig[];
  announce: BgpAnnounce[];
  communities: number[];
  largeCommunities: [number, number, number][];
  med?: number;
  localPref: number;
  /** Where announced addresses are added while announced. */
  interface: string;
  /** ms after start before the first announcement. */
  announceDelay: number;
  /** ms a stop waits after withdrawing, listeners still open, before the proxy closes them. */
  withdrawWait: number;
  /** ms a stop announces with the GRACEFUL_SHUTDOWN community (RFC 8326) before withdrawing; 0 = off. */
  gracefulShutdown: number;
}

const WELL_KNOWN: Record<string, number> = {
  "no-export": COMMUNITY.NO_EXPORT,
  "no-advertise": COMMUNITY.NO_ADVERTISE,
  "no-export-subconfed": COMMUNITY.NO_EXPORT_SUBCONFED,
  "graceful-shutdown": COMMUNITY.GRACEFUL_SHUTDOWN,
};

/** "65000:100" → standard (RFC 1997), "65000:1:2" → large (RFC 8092), or a well-known name. Throws Error. */
export function parseCommunity(text: string | number): { standard: number } | { large: [number, number, number] } {
  const t = String(text).trim().toLowerCase().replace(/_/g, "-");
  if (t in WELL_KNOWN) return { standard: WELL_KNOWN[t] };
  const parts = t.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new Error(`"${text}" is not a community`);
  }
  const n = parts.map(Number);
  if (n.length === 2) {
    if (n[0] > 65535 || n[1] > 65535) throw new Error(`"${text}": both halves of a community must be 0..65535 (use a:b:c for a large community)`);
    return { standard: n[0] * 65536 + n[1] };
  }
  if (n.some((x) => x > MAX_AS)) throw new Error(`"${text}": each part of a large community must be 0..4294967295`);
  return { large: [n[0], n[1], n[2]] };
}

/** "65000:100" (or the well-known name) for a standard community. */
export function communityText(c: number): string {
  const name = Object.entries(WELL_KNOWN).find(([, v]) => v === c)?.[0];
  return name ?? `${Math.floor(c / 65536)}:${c % 65536}`;
}

/** What the section needs to know about the proxies: frontends with their binds and default backend. */
export interface ProxyView {
  frontends: { name: string; binds: { host: string }[]; defaultBackend?: string }[];
  backends: { name: string }[];
}

/** The proxies serving `address`: frontends bound to it (or to the wildcard of its family) and their default backends. */
export function proxiesFor(address: string, view: ProxyView): string[] {
  const family = isIP(address);
  const out = new Set<string>();
  for (const f of view.frontends) {
    const serves = f.binds.some((b) => b.host === address || (family === 4 && (b.host === "0.0.0.0" || b.host === "::")) || (family === 6 && b.host === "::"));
    if (!serves) continue;
    out.add(f.name);
    if (f.defaultBackend) out.add(f.defaultBackend);
  }
  return [...out];
}

const holdSeconds = (ms: number) => ms / 1000;

/** Resolves the bgp section (paths under "bgp") and reports what is wrong with it into diag. */
export function normalizeBgp(input: BgpInput, diag: Diagnostics): BgpConfig {
  const at = (...p: (string | number)[]) => ["bgp", ...p];
  if (input.local_as === AS_TRANS) diag.error(at("local_as"), `AS ${AS_TRANS} is AS_TRANS (RFC 6793), not an AS of its own`);
  const hold = (ms: number | undefined, path: (string | number)[]): number => {
    if (ms === undefined) return BGP_DEFAULTS.holdTime;
    const s = holdSeconds(ms);
    if (!Number.isInteger(s) || (s !== 0 && (s < 3 || s > 65535))) diag.error(path, `hold time ${ms}ms: BGP counts it in whole seconds, 0 or 3s..65535s (RFC 4271 §4.2)`, "write 3s, 9s, 90s; 0 turns keepalives off");
    return Math.round(s);
  };
  const holdTime = hold(input.hold_time, at("hold_time"));
  if (input.router_id !== undefined && (isIP(input.router_id) !== 4 || input.router_id === "0.0.0.0")) {
    diag.error(at("router_id"), `"${input.router_id}" is not a router ID`, "a router ID is a non-zero IPv4 address such as 192.0.2.11 (RFC 6286)");
  }
  if (input.peers.length === 0) diag.error(at("peers"), "no peer: nothing would hear the announcements", "list your routers: peers: [{ address: 192.0.2.1, as: 65000 }]");
  const seen = new Set<string>();
  const peers = input.peers.map((p, i): BgpPeerConfig => {
    const family = isIP(p.address);
    if (family === 0) diag.error(at("peers", i, "address"), `"${p.address}" is not an IP address`, "peers are reached by address, as routers configure their neighbors");
    if (p.as === AS_TRANS) diag.error(at("peers", i, "as"), `AS ${AS_TRANS} is AS_TRANS (RFC 6793), not an AS of its own`);
    const port = p.port ?? BGP_DEFAULTS.port;
    const name = port === BGP_DEFAULTS.port ? p.address : family === 6 ? `[${p.address}]:${port}` : `${p.address}:${port}`;
    if (seen.has(name)) diag.error(at("peers", i, "address"), `peer ${name} is listed twice`);
    seen.add(name);
    if (p.password !== undefined && new TextEncoder().encode(p.password).length > MD5_MAX_KEY) {
      diag.error(at("peers", i, "password"), `the TCP MD5 password is longer than ${MD5_MAX_KEY} bytes (the kernel's limit)`);
    }
    if (p.password === "") diag.error(at("peers", i, "password"), "an empty password", "remove password: for a session without TCP MD5");
    const external = p.as !== input.local_as;
    const ttl = p.multihop === undefined || p.multihop === false ? (external ? 1 : undefined) : p.multihop === true ? BGP_DEFAULTS.multihopTtl : p.multihop;
    return { name, address: p.address, family: family === 6 ? 6 : 4, port, as: p.as, password: p.password, holdTime: p.hold_time === undefined ? holdTime : hold(p.hold_time, at("peers", i, "hold_time")), ttl };
  });
  if (input.router_id === undefined && peers.length > 0 && !peers.some((p) => p.family === 4)) {
    diag.error(at("router_id"), "router_id is needed: with no IPv4 peer there is no address to take it from", "a router ID is an IPv4 address, unique among your speakers (RFC 6286)");
  }
  const communities: number[] = [];
  const largeCommunities: [number, number, number][] = [];
  (input.communities ?? []).forEach((c, i) => {
    try {
      const r = parseCommunity(c);
      if ("standard" in r) communities.push(r.standard);
      else largeCommunities.push(r.large);
    } catch (err) {
      diag.error(at("communities", i), (err as Error).message, 'write "65000:100", "65000:1:2" (large), no-export or no-advertise');
    }
  });
  const announced = new Set<string>();
  const announce = input.announce.map((a, i): BgpAnnounce => {
    const written = "family" in a ? { prefix: a, proxies: undefined } : { prefix: a.address, proxies: a.proxies };
    const prefix = written.prefix;
    const path = "family" in a ? at("announce", i) : at("announce", i, "address");
    const host = prefix.family === 4 ? 32 : 128;
    if (prefix.prefix !== host) diag.error(path, `${prefix.address}/${prefix.prefix}: tandem announces the addresses it serves, one host route each`, `write ${prefix.address}/${host}`);
    if (announced.has(prefix.address)) diag.error(path, `${prefix.address} is announced twice`);
    announced.add(prefix.address);
    if (peers.length > 0 && !peers.some((p) => p.family === prefix.family)) {
      diag.warn(path, `no IPv${prefix.family} peer: ${prefix.address} is never announced`, "tandem sends IPv4 routes to IPv4 peers and IPv6 routes to IPv6 peers");
    }
    if (written.proxies?.length === 0) diag.error(at("announce", i, "proxies"), "an empty list: the address would be announced with nothing checked", "leave proxies: out to use the frontends bound to the address");
    return { prefix: { ...prefix, prefix: host }, proxies: written.proxies };
  });
  if (announce.length === 0) diag.warn(at("announce"), "nothing to announce: the sessions carry no route");
  if (input.interface === "") diag.error(at("interface"), "an empty interface name");
  return {
    localAs: input.local_as,
    routerId: input.router_id,
    peers,
    announce,
    communities,
    largeCommunities,
    med: input.med,
    localPref: input.local_pref ?? BGP_DEFAULTS.localPref,
    interface: input.interface ?? BGP_DEFAULTS.interface,
    announceDelay: input.announce_delay ?? BGP_DEFAULTS.announceDelay,
    withdrawWait: input.withdraw_wait ?? BGP_DEFAULTS.withdrawWait,
    gracefulShutdown: input.graceful_shutdown ?? BGP_DEFAULTS.gracefulShutdown,
  };
}

/**
 * The section with every address's proxies filled in: those written, else the frontends bound to
 * the address and their default backends (they come from the proxy section, hence at run time).
 */
export function withProxies(bgp: BgpConfig, view: ProxyView): BgpConfig {
  return { ...bgp, announce: bgp.announce.map((a) => ({ ...a, proxies: a.proxies ?? proxiesFor(a.prefix.address, view) })) };
}

/** Checks that need the proxy section and global: the proxies named or found, the stop within grace_period. */
function checkBgp(bgp: BgpConfig, view: ProxyView, gracePeriod: number, input: BgpInput, diag: Diagnostics): void {
  const names = new Set([...view.frontends.map((f) => f.name), ...view.backends.map((b) => b.name)]);
  bgp.announce.forEach((a, i) => {
    const written = input.announce[i];
    const path = written && !("family" in written) ? ["bgp", "announce", i, "address"] : ["bgp", "announce", i];
    if (a.proxies) {
      a.proxies.forEach((p, j) => {
        if (!names.has(p)) diag.error(["bgp", "announce", i, "proxies", j], `unknown proxy "${p}"`, didYouMean(p, names) ?? (names.size ? `defined: ${[...names].join(", ")}` : "define it under proxies:"));
      });
    } else if (proxiesFor(a.prefix.address, view).length === 0) {
      const { address, family } = a.prefix;
      diag.error(path, `nothing listens on ${address}: it would be announced with nothing to serve`, `bind a frontend to ${family === 6 ? `[${address}]` : address}:PORT, or name the proxies to check with { address: ..., proxies: [...] }`);
    }
  });
  if (bgp.withdrawWait + bgp.gracefulShutdown >= gracePeriod) {
    diag.warn(["bgp", input.withdraw_wait !== undefined ? "withdraw_wait" : "graceful_shutdown"], `graceful_shutdown + withdraw_wait (${bgp.gracefulShutdown + bgp.withdrawWait}ms) leave nothing of global.grace_period (${gracePeriod}ms) to drain connections`, "raise global.grace_period");
  }
}

/** The `bgp:` section of tandem.yaml. */
export const bgpSection: ConfigSection<{ bgp?: BgpConfig }> = {
  name: "bgp",
  keys: { bgp: bgpSchema.optional() },
  normalize(ctx, diag) {
    const b = ctx.input.bgp as BgpInput | undefined;
    return { bgp: b ? normalizeBgp(b, diag) : undefined };
  },
  check(config, ctx, diag) {
    const b = ctx.input.bgp as BgpInput | undefined;
    const bgp = config.bgp as BgpConfig | undefined;
    if (!b || !bgp) return;
    const view = { frontends: (config.frontends ?? []) as ProxyView["frontends"], backends: (config.backends ?? []) as ProxyView["backends"] };
    checkBgp(bgp, view, config.global.gracePeriod, b, diag);
  },
};
