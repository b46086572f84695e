// The BGP subsystem: one session per peer, the health-gated announcer, real I/O, ctx.services.bgp.

import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import { TandemError } from "../core/errors.ts";
import type { BaseConfig } from "../config/types.ts";
import type { VrrpSectionConfig } from "../vrrp/config.ts";
import { canonicalIp } from "../core/address.ts";
import { netlinkAddressManager, hasAddress, type AddressManager } from "../vrrp/ip_address.ts";
import { systemConnector, type TcpConnector } from "../runtime/tcp_connect.ts";
import { sourceAddressFor } from "../runtime/route_source.ts";
import { Announcer, type AnnounceStatus } from "./announcer.ts";
import { withProxies, type BgpConfig, type BgpPeerConfig, type ProxyView } from "./config.ts";
import type { SessionConfig } from "./fsm.ts";
import { CEASE } from "./notification.ts";
import { BgpSession, type PeerStatus } from "./session.ts";

/** What the subsystem does to the world, behind one object so tests can substitute it. */
export interface BgpIo {
  connect: TcpConnector;
  addresses: AddressManager;
  hasAddress(dev: string, address: string): boolean;
  /** The local address toward a destination (for the default router ID). */
  sourceAddressFor(destination: string): Promise<string | undefined>;
}

/** The real I/O: libc TCP (MD5, TTL), rtnetlink addresses, the kernel's route choice. */
export function realIo(): BgpIo {
  let addresses: AddressManager | undefined;
  return {
    connect: systemConnector(),
    // Opened on first use: a config whose addresses never become healthy needs no netlink.
    addresses: {
      add: (vip) => (addresses ??= netlinkAddressManager()).add(vip),
      remove: (vip) => (addresses ??= netlinkAddressManager()).remove(vip),
    },
    hasAddress,
    sourceAddressFor,
  };
}

/** What services.bgp.status() returns. */
export interface BgpStatus {
  enabled: true;
  localAs: number;
  routerId: string;
  peers: PeerStatus[];
  announce: AnnounceStatus[];
}

/** What the BGP subsystem offers the others (ctx.services.bgp). */
export interface BgpService {
  /** Sessions and announcements, or `enabled: false` without a bgp section. */
  status(): BgpStatus | { enabled: false };
}

declare module "../core/subsystem.ts" {
  interface Services {
    bgp?: BgpService;
  }
}

/** What the BGP subsystem reads of the resolved config: its section, VRRP's addresses, the frontends. */
export type BgpSubsystemConfig = BaseConfig & ProxyView & { bgp?: BgpConfig; vrrp?: VrrpSectionConfig };

/** Reconnection: 1 s after a failure, doubling to 30 s; a TCP connection gets 5 s. */
const RETRY = 1_000;
const RETRY_MAX = 30_000;
const CONNECT_TIMEOUT = 5_000;

function sessionConfig(c: BgpConfig, routerId: string, p: BgpPeerConfig): SessionConfig {
  return { localAs: c.localAs, peerAs: p.as, routerId, holdTime: p.holdTime, family: p.family, localPref: c.localPref, retry: RETRY, retryMax: RETRY_MAX, connectTimeout: CONNECT_TIMEOUT };
}

/** A session must be rebuilt (its peer sees a reset) when this changes. */
const peerIdentity = (c: BgpConfig, routerId: string, p: BgpPeerConfig) => JSON.stringify([sessionConfig(c, routerId, p), p.port, p.password, p.ttl]);

/**
 * The BGP subsystem; does nothing without a `bgp` section. Fills ctx.services.bgp with status().
 * start() resolves the router ID, starts the announcer and a session per peer (throws
 * TandemError E_BGP_CONFIG when no router ID can be found). stop() runs the announcer's planned
 * leave (withdraw, wait, remove addresses) and then ends the sessions with a Cease.
 */
export function createBgpSubsystem(ctx: SubsystemContext<BgpSubsystemConfig>, makeIo: () => BgpIo = realIo): Subsystem<BgpSubsystemConfig> {
  const log = ctx.log.child("bgp");
  const resolve = (t: BgpSubsystemConfig) => (t.bgp ? withProxies(t.bgp, t) : undefined);
  let config: BgpConfig | undefined = resolve(ctx.config);
  let tandem: BgpSubsystemConfig = ctx.config;
  let io: BgpIo | undefined;
  let routerId = "";
  let announcer: Announcer | undefined;
  const sessions = new Map<string, { session: BgpSession; identity: string }>();

  // A VIP is announced only by the host that is master of the VRRP instance holding it.
  const vrrpGate = (t: BgpSubsystemConfig) => t.vrrp
    ? {
      vips: t.vrrp.instances.flatMap((i) => i.virtualIps.map((v) => v.cidr.address)),
      isMaster: (address: string) => (ctx.services.vrrp?.status().instances ?? []).some((i) => i.state === "master" && i.vips.some((v) => canonicalIp(v.split("/")[0]) === canonicalIp(address))),
    }
    : undefined;

  const resolveRouterId = async (c: BgpConfig): Promise<string> => {
    if (c.routerId) return c.routerId;
    const first = c.peers.find((p) => p.family === 4);
    const id = first ? await io!.sourceAddressFor(first.address) : undefined;
    if (!id) throw new TandemError("E_BGP_CONFIG", `Cannot pick a BGP router ID: no route toward ${first?.address ?? "an IPv4 peer"}; set bgp.router_id`);
    return id;
  };

  const openSession = (c: BgpConfig, p: BgpPeerConfig) => {
    const session = new BgpSession(p, sessionConfig(c, routerId, p), { clock: ctx.clock, bus: ctx.bus, log, connect: io!.connect });
    session.setRoutes(announcer?.routes() ?? []);
    sessions.set(p.name, { session, identity: peerIdentity(c, routerId, p) });
    session.start();
  };

  const start = async (c: BgpConfig) => {
    io ??= makeIo();
    routerId = await resolveRouterId(c);
    announcer = new Announcer(c, {
      clock: ctx.clock, bus: ctx.bus, log,
      health: ctx.services.proxy ? (proxies) => ctx.services.proxy!.healthy(proxies, 1) : undefined,
      vrrp: vrrpGate(tandem),
      addresses: io.addresses,
      hasAddress: io.hasAddress,
      publish: (routes) => {
        for (const { session } of sessions.values()) session.setRoutes(routes);
      },
    });
    for (const p of c.peers) openSession(c, p);
    log.info(`BGP AS ${c.localAs}, router ID ${routerId}: ${c.peers.length} peer(s) (${c.peers.map((p) => `${p.name} AS ${p.as}`).join(", ")}), announcing ${c.announce.map((a) => `${a.prefix.address}/${a.prefix.prefix}`).join(", ") || "nothing"} while healthy`);
    announcer.start();
  };

  const stopAll = async (reason: string) => {
    await announcer?.stop(reason);
    announcer = undefined;
    await Promise.all([...sessions.values()].map(({ session }) => session.stop(reason)));
    sessions.clear();
  };

  ctx.services.bgp = {
    status: () =>
      config && announcer
        ? { enabled: true, localAs: config.localAs, routerId, peers: [...sessions.values()].map(({ session }) => session.status()), announce: announcer.status() }
        : { enabled: false },
  };

  return {
    name: "bgp",
    async start() {
      if (config) await start(config);
    },
    async reload(next: BgpSubsystemConfig) {
      const before = config;
      const after = resolve(next);
      tandem = next;
      config = after;
      if (!after) {
        if (before) await stopAll("bgp section removed");
        return;
      }
      if (!before || !announcer) {
        await start(after);
        return;
      }
      const id = after.routerId ?? (before.routerId === undefined ? routerId : await resolveRouterId(after));
      const everything = id !== routerId || after.localAs !== before.localAs;
      routerId = id;
      announcer.update(after);
      const wanted = new Map(after.peers.map((p) => [p.name, p]));
      for (const [name, s] of [...sessions]) {
        const p = wanted.get(name);
        if (p && !everything && s.identity === peerIdentity(after, routerId, p)) continue;
        sessions.delete(name);
        await s.session.stop("configuration changed", p ? CEASE.OTHER_CONFIG_CHANGE : CEASE.PEER_DECONFIGURED);
      }
      for (const p of after.peers) if (!sessions.has(p.name)) openSession(after, p);
    },
    async stop(reason: string) {
      await stopAll(reason);
    },
  };
}
