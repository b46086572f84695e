// One normalized picture of the running tandem (proxy, VRRP, BGP, alerts) for the page, CSV, JSON, metrics and ctl.

import type { Clock } from "../core/clock.ts";
import type { Services } from "../core/subsystem.ts";
import type { TandemConfig } from "../tandem_config.ts";
import type { BackendStatus, ProxyStatus } from "../proxy/status.ts";
import type { InstanceStatus } from "../vrrp/instance.ts";
import type { BgpStatus } from "../bgp/subsystem.ts";
import { RateMeter } from "./rates.ts";
import type { VrrpHistory, VrrpTransition } from "./vrrp_history.ts";
import type { TlsStats } from "../tls/info.ts";
import type { PairStatus } from "../pair/status.ts";
import type {} from "../pair/subsystem.ts";

/** Status words as haproxy prints them. */
export type ServerStatus = "UP" | "DOWN" | "MAINT" | "DRAIN";

export interface CheckStat {
  /** haproxy check status: L4OK, L4CON, L7STS... ("" before the first probe). */
  status: string;
  detail: string;
  /** ms the last probe took. */
  duration: number;
  ok: boolean;
  checks: number;
  failures: number;
}

/** Sessions and traffic, counted alike for a server and for a backend (the sum of its servers). */
export interface TrafficStat {
  /** Current and total sessions. */
  scur: number;
  stot: number;
  /** Waiting in a queue (a backend's: its own queue plus its servers'). */
  qcur: number;
  bin: number;
  bout: number;
  /** Failed connection attempts (haproxy econ). */
  econ: number;
  /** New sessions per second, connection errors per second. */
  rate: number;
  errRate: number;
}

export interface ServerStat extends TrafficStat {
  proxy: string;
  name: string;
  address: string;
  status: ServerStatus;
  weight: number;
  backup: boolean;
  smax: number;
  slim?: number;
  /** Wall ms of the last status change; count of transitions to DOWN. */
  lastChange: number;
  downs: number;
  check?: CheckStat;
}

export interface BackendStat extends TrafficStat {
  name: string;
  status: "UP" | "DOWN";
  /** Sum of the weights of usable servers; counts of usable active/backup servers. */
  weight: number;
  act: number;
  bck: number;
  stickEntries: number;
  servers: ServerStat[];
}

export interface FrontendStat {
  name: string;
  mode: string;
  status: "OPEN" | "WAITING" | "STOP";
  scur: number;
  stot: number;
  held: number;
  /** Bytes from and to clients. */
  bin: number;
  bout: number;
  rate: number;
  listeners: { address: string; bound: boolean }[];
}

/** A VRRP instance as its status() reports it (`received` becomes `adverts`), plus history. */
export interface VrrpStat extends Omit<InstanceStatus, "received"> {
  adverts: { accepted: number; dropped: Record<string, number> };
  /** Wall ms an advert from the peer was last accepted. */
  peerSeen?: number;
  transitions: VrrpTransition[];
  transitionCount: number;
}

/** BGP as services.bgp.status() reports it: sessions per peer, and each address with why it is (not) announced. */
export type BgpStat = Omit<BgpStatus, "enabled">;

export interface NotifierStat {
  notifier: string;
  pending: number;
  delivered: number;
  dropped: number;
  failedAttempts: number;
  lastDeliveryAt?: string;
  lastError?: string;
}

export interface StatsSnapshot {
  info: {
    name: "tandem";
    version: string;
    pid: number;
    role: string;
    hostname: string;
    /** Wall ms now and at start; uptime in seconds. */
    now: number;
    startedAt: number;
    uptime: number;
    connections: number;
    maxconn: number;
    /** Page refresh interval, ms; whether the page may change server states. */
    refresh: number;
    admin: boolean;
  };
  frontends: FrontendStat[];
  backends: BackendStat[];
  /** Every VRRP instance, in config order (empty without a vrrp section). */
  vrrp: VrrpStat[];
  /** VRRP sync groups: their state and members. */
  vrrpGroups: { name: string; state: string; instances: string[] }[];
  bgp?: BgpStat;
  alerts: { rules: number; activeRules: number; notifiers: NotifierStat[] };
  /** TLS termination: handshakes, failures by reason, HTTP/2 connections, certificates served (src/tls/). */
  tls?: TlsStats;
  /** The pair link: the peer's summary, config drift, replication, split brain (src/pair/); only with pair.key. */
  pair?: PairStatus;
}

const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Builds snapshots; keeps rate history between calls. */
export class SnapshotBuilder {
  #services: Services;
  #clock: Clock;
  #history: VrrpHistory;
  #rates = new RateMeter();
  #startedAt: number;
  #version: string;

  constructor(deps: { services: Services; clock: Clock; history: VrrpHistory; version: string }) {
    this.#services = deps.services;
    this.#clock = deps.clock;
    this.#history = deps.history;
    this.#version = deps.version;
    this.#startedAt = deps.clock.wallNow();
  }

  /** The current picture under config (role, stats settings). */
  build(config: TandemConfig): StatsSnapshot {
    const now = this.#clock.now();
    const wall = this.#clock.wallNow();
    const proxy: ProxyStatus = this.#services.proxy?.status() ?? { connections: 0, maxconn: config.global.maxconn, frontends: [], backends: [] };
    const rate = (key: string, value: number) => this.#rates.observe(key, value, now);
    const backends = (proxy.backends ?? []).map((b) => this.#backend(b, rate));
    const frontends: FrontendStat[] = (proxy.frontends ?? []).map((f) => {
      const bound = f.listeners.filter((l) => l.bound).length;
      return {
        name: f.name,
        mode: f.mode,
        status: bound === f.listeners.length ? "OPEN" : bound > 0 || f.listeners.length > 0 ? "WAITING" : "STOP",
        scur: n(f.active),
        stot: n(f.total),
        held: n(f.held),
        bin: n(f.bytesIn),
        bout: n(f.bytesOut),
        rate: rate(`f/${f.name}`, n(f.total)),
        listeners: f.listeners.map((l) => ({ address: l.address, bound: l.bound })),
      };
    });
    this.#rates.prune(now);
    const alerts = this.#services.alerts?.status();
    const pair = this.#services.pair?.status();
    const notify = this.#services.notify?.status();
    return {
      info: {
        name: "tandem",
        version: this.#version,
        pid: process.pid,
        role: config.role,
        hostname: config.global.hostname,
        now: wall,
        startedAt: this.#startedAt,
        uptime: Math.floor((wall - this.#startedAt) / 1000),
        connections: n(proxy.connections),
        maxconn: n(proxy.maxconn),
        refresh: config.stats?.refresh ?? 5000,
        admin: config.stats?.admin ?? false,
      },
      frontends,
      backends,
      tls: proxy.tls,
      vrrp: this.#vrrp(wall),
      vrrpGroups: (this.#services.vrrp?.status().syncGroups ?? []).map((g) => ({ name: g.name, state: g.state, instances: [...g.instances] })),
      bgp: this.#bgp(),
      pair: pair?.configured ? pair : undefined,
      alerts: {
        rules: alerts?.rules?.length ?? 0,
        activeRules: alerts?.rules?.filter((r) => r.active).length ?? 0,
        notifiers: (notify?.notifiers ?? []).map((q) => ({
          notifier: q.notifier,
          pending: n(q.pending),
          delivered: n(q.delivered),
          dropped: n(q.dropped),
          failedAttempts: n(q.failedAttempts),
          lastDeliveryAt: q.lastDeliveryAt,
          lastError: q.lastError,
        })),
      },
    };
  }

  #backend(b: BackendStatus, rate: (key: string, value: number) => number): BackendStat {
    const servers = (b.servers ?? []).map((s): ServerStat => {
      const key = `s/${b.name}/${s.name}`;
      const checked = s.checked ?? s.lastCheck !== undefined;
      const check = s.lastCheck;
      return {
        proxy: b.name,
        name: s.name,
        address: s.address,
        status: s.state.toUpperCase() as ServerStatus,
        weight: n(s.weight),
        backup: s.backup,
        scur: n(s.active),
        smax: Math.max(n(s.maxActive), n(s.active)),
        slim: s.maxconn,
        stot: n(s.total),
        qcur: n(s.queued),
        bin: n(s.bytesIn),
        bout: n(s.bytesOut),
        econ: n(s.connectErrors),
        rate: rate(key, n(s.total)),
        errRate: rate(`${key}/econ`, n(s.connectErrors)),
        lastChange: n(s.lastChange),
        downs: n(s.downs),
        check: checked
          ? { status: check?.status ?? "", detail: check?.detail ?? "", duration: n(check?.duration), ok: check?.ok ?? false, checks: n(s.checks), failures: n(s.checkFailures) }
          : undefined,
      };
    });
    const usable = servers.filter((s) => s.status === "UP");
    const sum = (f: (s: ServerStat) => number) => servers.reduce((t, s) => t + f(s), 0);
    return {
      name: b.name,
      status: usable.length > 0 ? "UP" : "DOWN",
      scur: n(b.active),
      stot: sum((s) => s.stot),
      qcur: n(b.queued) + sum((s) => s.qcur),
      bin: sum((s) => s.bin),
      bout: sum((s) => s.bout),
      econ: sum((s) => s.econ),
      rate: rate(`b/${b.name}`, sum((s) => s.stot)),
      errRate: rate(`b/${b.name}/econ`, sum((s) => s.econ)),
      weight: usable.reduce((t, s) => t + s.weight, 0),
      act: usable.filter((s) => !s.backup).length,
      bck: usable.filter((s) => s.backup).length,
      stickEntries: n(b.stickEntries),
      servers,
    };
  }

  #bgp(): BgpStat | undefined {
    const st = this.#services.bgp?.status() as BgpStatus | { enabled: false } | undefined;
    if (!st || !st.enabled) return undefined;
    const { enabled: _enabled, ...rest } = st;
    return rest;
  }

  #vrrp(wall: number): VrrpStat[] {
    return (this.#services.vrrp?.status().instances ?? []).map((st) => {
      const accepted = n(st.received?.accepted);
      return {
        instance: st.instance,
        interface: st.interface,
        vrid: n(st.vrid),
        family: st.family,
        syncGroup: st.syncGroup,
        state: st.state,
        priority: n(st.priority),
        basePriority: n(st.basePriority),
        master: st.master,
        vips: st.vips ?? [],
        since: n(st.since),
        fault: st.fault,
        track: st.track ?? [],
        adverts: { accepted, dropped: st.received?.dropped ?? {} },
        peerSeen: this.#history.observeAdverts(st.instance, accepted, wall),
        transitions: this.#history.transitions.filter((t) => t.instance === st.instance),
        transitionCount: this.#history.counts.get(st.instance) ?? 0,
      };
    });
  }
}
