// The pair subsystem: the link between the two hosts and what it carries (state, configuration
// fingerprints, stick entries, certificates, staged reloads), split brain over the link, which host
// sends alerts about the pair, `tandem why`, and closing connections on a VIP that leaves.

import pkg from "../../package.json" with { type: "json" };
import type { BaseConfig } from "../config/types.ts";
import type { TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import { netTransport } from "../runtime/net_transport.ts";
import type { Transport } from "../runtime/transport.ts";
import { pairAlertSender, type SenderDecision } from "./alert_sender.ts";
import { CertificateCarrier } from "./certificates.ts";
import type { PairConfig, PairLinkConfig } from "./config.ts";
import type { PairConnection } from "./connection.ts";
import { stretchKey } from "./handshake.ts";
import { PairLink } from "./link.ts";
import { encodeJson, MSG, type Decoded, type PeerState } from "./messages.ts";
import { PeerTracker } from "./peer.ts";
import { StickReplicator } from "./replicator.ts";
import { RequestTable } from "./requests.ts";
import { initialSplitBrain, stepSplitBrain } from "./split_brain.ts";
import { stagedReload, type StagedReloadResult } from "./staged_reload.ts";
import type { PairStatus } from "./status.ts";
import { buildState, localHealth, type SelfInfo } from "./summary.ts";
import { holdsVip, localInstances } from "./vrrp_view.ts";
import { explain, type Transition } from "./why.ts";

/** What the pair reads of the resolved config. */
export type PairSubsystemConfig = BaseConfig & { pair: PairConfig; vrrp?: unknown; acme?: { certificates: { name: string }[] } };

/** What the pair offers the others (ctx.services.pair). */
export interface PairService {
  status(): PairStatus;
  /** `tandem why`: why the VIP is where it is, from this host. */
  why(): string;
  /** `tandem ctl reload --pair`. */
  stagedReload(): Promise<StagedReloadResult>;
  /** Whether this host sends an alert about the pair now (the VIP holder does). */
  alertSender(): SenderDecision;
}

declare module "../core/subsystem.ts" {
  interface Services {
    pair?: PairService;
  }
}

/** State is sent this often even when nothing changed: it is the link's heartbeat. */
const HEARTBEAT = 1_000;
/** Changes are sent after this short pause (several at once travel together). */
const STATE_DELAY = 50;
/** A config fingerprint larger than this is sent truncated (the hashes still compare it whole). */
const MAX_LEAVES_BYTES = 900_000;

const sameLink = (a?: PairLinkConfig, b?: PairLinkConfig) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Creates the pair subsystem (always: without `pair.key` it only closes connections on a VIP that
 * leaves and answers `tandem why`). `transport` replaces node:net (tests).
 */
export function createPairSubsystem(ctx: SubsystemContext<PairSubsystemConfig>, options: { transport?: Transport } = {}): Subsystem<PairSubsystemConfig> {
  const log = ctx.log.child("pair");
  const { bus, clock, services } = ctx;
  const transport = options.transport ?? netTransport;
  let config = ctx.config;
  let link: PairLink | undefined;
  let psk: { key: string; value: Buffer } | undefined;
  const startedAt = clock.wallNow();
  const peer = new PeerTracker(config.pair.fingerprint, { clock, bus, log });
  const replicator = new StickReplicator({ proxy: () => services.proxy, clock, log, bus });
  const requests = new RequestTable(clock);
  const certificates = new CertificateCarrier({ bus, log, stateDir: () => config.global.stateDir, names: () => config.acme?.certificates.map((c) => c.name) ?? [] });
  const transitions = new Map<string, Transition>();
  let split = initialSplitBrain();
  let splitReports: number[] = [];
  let heartbeat: TimerHandle | undefined;
  let pendingState: TimerHandle | undefined;
  const unsubscribe: (() => void)[] = [];
  let running = false;
  let rollout: Promise<StagedReloadResult> | undefined;

  const instances = () => localInstances(services, config.vrrp);
  const self = (): SelfInfo => ({ hostname: config.global.hostname, role: config.role, version: pkg.version, pid: process.pid, startedAt, configHash: config.pair.fingerprint.hash });
  const conn = (): PairConnection | undefined => link?.connection;
  const peerState = (): PeerState | undefined => (conn() ? peer.state : undefined);

  const send = (c: PairConnection | undefined, payload: Buffer) => {
    if (!c) return;
    try {
      if (!c.send(payload) && c.writableLength > 8 << 20) c.close("the peer does not read what this host sends (8 MiB waiting)");
    } catch (err) {
      // A message over a record's 1 MiB (a state of some 10 000 backends): said, not sent.
      log.error(`Pair link: cannot send a message of ${payload.length} bytes: ${describeError(err)}`);
    }
  };
  const sendState = () => {
    pendingState?.cancel();
    pendingState = undefined;
    try {
      send(conn(), encodeJson(MSG.state, buildState(self(), services, instances(), clock.wallNow())));
    } catch (err) {
      log.error(`Pair link: cannot build this host's state: ${describeError(err)}`);
    }
  };
  /** A local change: the peer hears of it shortly, and split brain is evaluated again. */
  const changed = () => {
    evaluateSplit();
    if (conn()) pendingState ??= clock.setTimeout(sendState, STATE_DELAY);
  };
  const sendConfig = (c: PairConnection) => {
    const fp = config.pair.fingerprint;
    let leaves = fp.leaves;
    let size = 0;
    const cut = leaves.findIndex(([p, h]) => (size += p.length + h.length + 8) > MAX_LEAVES_BYTES);
    if (cut >= 0) leaves = leaves.slice(0, cut);
    send(c, encodeJson(MSG.config, { hash: fp.hash, leaves, truncated: cut >= 0 }));
  };

  const evaluateSplit = () => {
    const wall = clock.wallNow();
    const local = instances().map((i) => ({
      instance: i.instance, vrid: i.vrid, master: i.state === "master",
      masterFor: i.state === "master" ? Math.max(0, wall - i.since) : 0,
      // A preemption overlaps for one advert's travel; a split brain lasts.
      grace: Math.max(1_000, 3 * i.advertInterval),
    }));
    const ps = peerState();
    const r = stepSplitBrain(split, { now: clock.now(), local, peer: ps?.vrrp.map((p) => ({ vrid: p.vrid, master: p.state === "master" })), reports: splitReports });
    split = r.state;
    splitReports = [];
    const peerName = ps?.hostname ?? link?.config.peer.address ?? "the peer";
    for (const c of r.changes) {
      if (c.type === "started") {
        log.warn(`Split brain: ${peerName} and this host are both MASTER for VRID ${c.vrid} (${c.instance}), seen ${c.source === "link" ? "over the pair link" : "from its adverts"}`);
        bus.emit("pair.split_brain", { instance: c.instance, vrid: c.vrid, peer: peerName, source: c.source });
      } else {
        log.info(`Split brain over for VRID ${c.vrid} (${c.instance}) after ${(c.duration / 1000).toFixed(1)}s`);
        bus.emit("pair.split_brain_ended", { instance: c.instance, vrid: c.vrid, peer: peerName, duration: c.duration });
      }
    }
  };

  const alertSender = (): SenderDecision => {
    const mine = instances();
    const ps = peerState();
    return pairAlertSender({
      linked: config.pair.link !== undefined,
      linkUp: ps !== undefined,
      role: config.role,
      holdsVip: holdsVip(mine),
      // A backup whose master's adverts still arrive: that master is alive and sends.
      hearsMaster: mine.some((i) => i.state === "backup" && i.lastAdvert !== undefined && clock.wallNow() - i.lastAdvert.at < 2 * i.advertInterval + 500),
      peerHoldsVip: ps ? holdsVip(ps.vrrp) : false,
    });
  };

  // --- messages from the peer --------------------------------------------------------------------

  const answer = async (c: PairConnection, id: number, op: "validate" | "reload") => {
    const hashOf = (cfg: unknown) => (cfg as Partial<PairSubsystemConfig> | undefined)?.pair?.fingerprint.hash;
    try {
      if (op === "validate") {
        const v = services.validate ? await services.validate() : { valid: false, errors: ["validation is not available in this process"] };
        send(c, encodeJson(MSG.response, { id, ok: v.valid, errors: v.errors, hash: hashOf(v.config) }));
      } else {
        log.info("Staged reload: the peer asks this host to reload");
        const r = services.reload ? await services.reload() : { applied: false, errors: ["reload is not available in this process"] };
        send(conn(), encodeJson(MSG.response, { id, ok: r.applied, errors: r.errors, hash: config.pair.fingerprint.hash }));
      }
    } catch (err) {
      send(conn(), encodeJson(MSG.response, { id, ok: false, errors: [describeError(err)] }));
    }
  };

  const onMessage = (c: PairConnection, m: Decoded) => {
    try {
      switch (m.type) {
        case MSG.state:
          peer.update(m.value);
          evaluateSplit();
          requests.peerState(m.value);
          return;
        case MSG.config:
          return peer.config(m.value);
        case MSG.sticks:
          return replicator.received(c, m.body);
        case MSG.sticksAck:
          return replicator.acknowledged(m.body);
        case MSG.resync:
          return replicator.resyncMarker(m.value);
        case MSG.request:
          return void answer(c, m.value.id, m.value.op);
        case MSG.response:
          return requests.answered(m.value);
        case MSG.cert: {
          const what = certificates.received(m.value);
          if (what !== "installed" && what !== "failed") log.info(what);
          return;
        }
        case MSG.certs:
          for (const cert of certificates.newerThanPeer(m.value)) send(c, encodeJson(MSG.cert, cert));
          return;
      }
    } catch (err) {
      c.close(`cannot handle a message from the peer: ${describeError(err)}`);
    }
  };

  // --- the link ----------------------------------------------------------------------------------

  const startLink = (cfg: PairLinkConfig) => {
    if (psk?.key !== cfg.key) psk = { key: cfg.key, value: stretchKey(cfg.key) };
    // Stick entries are watched only with a link: without one the proxy pays nothing per connection.
    replicator.watch();
    const l = new PairLink(cfg, { transport, clock, log, psk: psk.value }, {
      up(c) {
        log.info(`Pair link up with the ${cfg.peer.role} at ${c.remote}:${cfg.port} (X25519, AES-256-GCM)`);
        bus.emit("pair.link_up", { peer: cfg.peer.role, address: cfg.peer.address, role: cfg.peer.role });
        sendConfig(c);
        sendState();
        send(c, encodeJson(MSG.certs, certificates.inventory()));
        replicator.attach(c);
      },
      down(_c, reason) {
        log.warn(`Pair link down: ${reason}`);
        bus.emit("pair.link_down", { peer: peer.state?.hostname ?? cfg.peer.role, address: cfg.peer.address, reason });
        replicator.detach();
        requests.linkDown(reason);
        evaluateSplit();
      },
      message: onMessage,
      refused(address, reason) {
        log.warn(`Pair link refused ${address}: ${reason}`);
        bus.emit("pair.refused", { address, reason });
      },
    });
    l.start();
    return l;
  };

  const tick = () => {
    if (!running) return;
    heartbeat = clock.setTimeout(tick, HEARTBEAT);
    if (conn()) sendState();
    try {
      evaluateSplit();
    } catch (err) {
      log.error(`Pair: split brain check failed: ${describeError(err)}`);
    }
  };

  // --- what the others read ----------------------------------------------------------------------

  const status = (): PairStatus => {
    const l = link;
    const wallOf = (mono?: number) => (mono === undefined ? undefined : clock.wallNow() - (clock.now() - mono));
    const d = peer.drift;
    return {
      configured: config.pair.link !== undefined,
      self: { hostname: config.global.hostname, role: config.role, address: config.pair.link?.self.address, port: config.pair.link?.port },
      link: l ? { state: l.state, upSince: wallOf(l.stats.upSince), connects: l.stats.connects, refusals: l.stats.refusals, lastError: l.stats.lastError } : { state: "off", connects: 0, refusals: 0 },
      peer: config.pair.link ? { address: config.pair.link.peer.address, role: config.pair.link.peer.role, lastSeen: peer.lastSeen, state: peer.state } : undefined,
      config: { hash: config.pair.fingerprint.hash, same: d?.same, theirs: d?.theirs, keys: d?.keys ?? [], more: d?.more ?? 0 },
      replication: { ...replicator.stats },
      splitBrain: Object.entries(split.open).map(([vrid, inc]) => ({ instance: inc.instance, vrid: Number(vrid), source: inc.source, since: wallOf(inc.since)! })),
      alerts: alertSender(),
    };
  };

  services.pair = {
    status,
    alertSender,
    why: () => explain({
      now: clock.wallNow(),
      self: { hostname: config.global.hostname, role: config.role },
      instances: instances(),
      transitions,
      proxyHealth: services.proxy?.healthy(),
      link: { configured: config.pair.link !== undefined, state: link?.state ?? "off", lastError: link?.stats.lastError },
      peer: peerState() && peer.lastSeen !== undefined ? { state: peer.state!, lastSeen: peer.lastSeen } : undefined,
    }),
    stagedReload() {
      if (rollout) return Promise.resolve({ ok: false, lines: ["stopped: a staged reload is already running"] });
      rollout = stagedReload({
        clock,
        timeout: config.pair.link?.reloadTimeout ?? 30_000,
        self: { name: config.global.hostname, role: config.role },
        linkUp: () => conn() !== undefined,
        peer: peerState,
        validateLocal: () => (services.validate ? services.validate() : Promise.resolve({ valid: false, errors: ["validation is not available in this process"] })),
        reloadLocal: () => (services.reload ? services.reload() : Promise.resolve({ applied: false, errors: ["reload is not available in this process"] })),
        hashOf: (cfg) => (cfg as Partial<PairSubsystemConfig> | undefined)?.pair?.fingerprint.hash,
        localHealth: () => localHealth(services, instances()),
        localHoldsVip: () => holdsVip(instances()),
        request: (op, timeout) => requests.ask(conn(), op, timeout),
        peerMark: () => requests.mark(),
        waitPeer: (pred, timeout, mark) => requests.waitPeer(() => peerState(), pred, timeout, mark),
      }).finally(() => (rollout = undefined));
      return rollout;
    },
  };

  // --- events ------------------------------------------------------------------------------------

  const subscribe = () => {
    unsubscribe.push(
      bus.on("vrrp.state", (e) => {
        transitions.set(e.instance, { from: e.from, to: e.to, reason: e.reason, at: clock.wallNow() });
        changed();
      }),
      // The VIP leaves this host: its clients reconnect to the new holder instead of hanging
      // (closed while the address is still here, so the FIN leaves from it).
      bus.on("vrrp.vips_leaving", (e) => {
        if (!config.pair.closeOnVipLoss || e.vips.length === 0) return;
        const n = services.proxy?.closeAccepted(e.vips) ?? 0;
        if (n > 0) log.info(`Closed ${n} connection(s) accepted on ${e.vips.join(", ")}: the VIP leaves this host`);
      }),
      bus.on("vrrp.split_brain", (e) => {
        // Only a lower master while this host keeps the VIP: a higher one is a preemption (or the winner reports it).
        const i = instances().find((x) => x.instance === e.instance);
        if (i && i.state === "master" && e.peerPriority < i.priority) splitReports.push(i.vrid);
        changed();
      }),
      bus.on("vrrp.priority", changed),
      bus.on("server.state", changed),
      bus.on("proxy.health", changed),
      bus.on("acme.issued", (e) => {
        const c = conn();
        if (c) send(c, encodeJson(MSG.cert, { name: e.name, pem: e.pem }));
        else log.warn(`Certificate "${e.name}" issued while the pair link is down: the peer gets it when the link comes back`);
      }),
    );
  };

  return {
    name: "pair",
    async start() {
      running = true;
      subscribe();
      if (config.pair.link) link = startLink(config.pair.link);
      tick();
    },
    async reload(next) {
      const before = config.pair.link;
      config = next;
      peer.setOurs(next.pair.fingerprint);
      if (!sameLink(before, next.pair.link)) {
        link?.stop();
        replicator.stop();
        link = next.pair.link ? startLink(next.pair.link) : undefined;
        return;
      }
      const c = conn();
      if (c) {
        sendConfig(c);
        sendState();
      }
    },
    async stop() {
      running = false;
      heartbeat?.cancel();
      pendingState?.cancel();
      for (const u of unsubscribe.splice(0)) u();
      replicator.stop();
      requests.linkDown("stopping");
      link?.stop();
      link = undefined;
    },
  };
}
