// The VRRP router state machine (RFC 5798 §6.4, RFC 3768 §6.4) as a pure step function over a table.

import { expandIPv6, ipFamily } from "../core/address.ts";

/** Router states; "init" is RFC Initialize, "stopped" is after a clean stop. */
export type VrrpStateName = "init" | "backup" | "master" | "fault" | "stopped";

/** What the machine needs from the configuration. */
export interface MachineConfig {
  version: 2 | 3;
  /** Our Advertisement_Interval in ms. */
  advertInterval: number;
  preempt: boolean;
  /** ms after start or fault recovery before a lower-priority master may be preempted. */
  preemptDelay: number;
  /** Our primary address: the tie-breaker when priorities are equal (RFC 5798 §6.4.3). */
  primaryIp: string;
  /**
   * A member of a sync group (keepalived vrrp_sync_group): a backup whose timer says "become
   * master" only asks (want_master) and waits for the group's sync_master (src/vrrp/sync_group.ts).
   */
  synced?: boolean;
}

/** The machine's state: plain data, deadlines in monotonic ms. */
export interface MachineState {
  name: VrrpStateName;
  config: MachineConfig;
  /** Current effective priority (base plus tracking), 1..255. */
  priority: number;
  /** Master_Adver_Interval: v3 learns it from the master's adverts; v2 uses our own. */
  masterAdverInterval: number;
  /** Master: when the next advert is due. */
  advertAt?: number;
  /** Backup: when the master is declared down. */
  masterDownAt?: number;
  /** Backup: a lower-priority master is tolerated until this time (preempt_delay). */
  preemptAllowedAt: number;
  /** Backup: address of the master we last heard. */
  masterIp?: string;
  /** Backup: the master said it is leaving (priority 0). */
  masterLeft: boolean;
  /** Master: the other master already reported as split brain (report once per peer). */
  splitBrainPeer?: string;
  /** Demoted by the operator: behaves as non-preempting until it next becomes master. */
  demoted: boolean;
  /** Synced backup: would be master now, waits for the rest of its sync group. */
  wantMaster: boolean;
}

export type MachineEvent =
  | { type: "start" }
  /** A validated advertisement for our VRID. advertInterval in ms. */
  | { type: "advert"; src: string; priority: number; advertInterval: number }
  /** A deadline (advertAt or masterDownAt) may have passed. */
  | { type: "timer" }
  | { type: "priority"; priority: number }
  | { type: "fault"; reason: string }
  | { type: "recover"; reason: string }
  | { type: "demote" }
  /** Sync group: every member wants master, go (from a backup that wants it). */
  | { type: "sync_master"; reason: string }
  /** Sync group: a member left master, so does this one (priority 0, like a demotion). */
  | { type: "sync_backup"; reason: string }
  | { type: "stop"; reason: string };

export type Action =
  | { type: "send_advert"; priority: number }
  | { type: "add_vips" }
  | { type: "remove_vips" }
  | { type: "garp" }
  | { type: "transition"; from: VrrpStateName; to: VrrpStateName; priority: number; reason: string }
  | { type: "split_brain"; peer: string; peerPriority: number; resolution: string }
  /** A synced backup would become master now; its sync group decides (sync_master). */
  | { type: "want_master"; reason: string }
  | { type: "log"; level: "debug" | "info" | "warn"; message: string; fields?: Record<string, unknown> };

export interface StepResult {
  state: MachineState;
  actions: Action[];
}

/** The state before start. */
export function initialState(config: MachineConfig, priority: number): MachineState {
  return { name: "init", config, priority, masterAdverInterval: config.advertInterval, preemptAllowedAt: 0, masterLeft: false, demoted: false, wantMaster: false };
}

/** Skew_Time in ms: v2 (256 − prio)/256 s (RFC 3768 §6.1); v3 ((256 − prio) × Master_Adver_Interval)/256 (RFC 5798 §6.1). */
export function skewTime(config: MachineConfig, priority: number, masterAdverInterval: number): number {
  return config.version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * masterAdverInterval) / 256;
}

/** Master_Down_Interval in ms: 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownInterval(config: MachineConfig, priority: number, masterAdverInterval: number): number {
  const interval = config.version === 2 ? config.advertInterval : masterAdverInterval;
  return 3 * interval + skewTime(config, priority, interval);
}

/** The earliest deadline the driver must wake up for, if any. */
export function nextDeadline(state: MachineState): number | undefined {
  const times = [state.advertAt, state.masterDownAt].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** Orders two addresses of one family as unsigned integers (RFC 5798 §6.4.3's "primary IP address" comparison). */
export function compareIp(a: string, b: string): number {
  const bytes = (ip: string) => (ipFamily(ip) === 6 ? expandIPv6(ip) : Uint8Array.from(ip.split(".").map(Number)));
  const x = bytes(a), y = bytes(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

// ---- transitions shared by several states ----

function toMaster(cfg: MachineConfig, s: MachineState, now: number, reason: string): StepResult {
  // RFC 5798 §6.4.1/§6.4.2: send an advert, broadcast gratuitous ARP, start the Adver_Timer.
  const state: MachineState = {
    ...s, name: "master", advertAt: now + cfg.advertInterval, masterDownAt: undefined,
    masterIp: undefined, masterLeft: false, splitBrainPeer: undefined, demoted: false, wantMaster: false,
  };
  return {
    state,
    actions: [
      { type: "send_advert", priority: s.priority },
      { type: "add_vips" },
      { type: "garp" },
      { type: "transition", from: s.name, to: "master", priority: s.priority, reason },
    ],
  };
}

function toBackup(cfg: MachineConfig, s: MachineState, now: number, reason: string, extra: Partial<MachineState> = {}): StepResult {
  const next: MachineState = { ...s, name: "backup", advertAt: undefined, splitBrainPeer: undefined, masterLeft: false, wantMaster: false, ...extra };
  next.masterDownAt = now + masterDownInterval(cfg, next.priority, next.masterAdverInterval);
  const actions: Action[] = [];
  if (s.name === "master") actions.push({ type: "remove_vips" });
  actions.push({ type: "transition", from: s.name, to: "backup", priority: s.priority, reason });
  return { state: next, actions };
}

function leaveMaster(s: MachineState): Action[] {
  // keepalived and RFC 5798 §6.4.3 (Shutdown): priority 0 so the backup takes over after Skew_Time.
  return s.name === "master" ? [{ type: "send_advert", priority: 0 }, { type: "remove_vips" }] : [];
}

function toFault(_cfg: MachineConfig, s: MachineState, _now: number, reason: string): StepResult {
  const state: MachineState = { ...s, name: "fault", advertAt: undefined, masterDownAt: undefined, splitBrainPeer: undefined, wantMaster: false };
  return { state, actions: [...leaveMaster(s), { type: "transition", from: s.name, to: "fault", priority: s.priority, reason }] };
}

function toStopped(_cfg: MachineConfig, s: MachineState, _now: number, reason: string): StepResult {
  const state: MachineState = { ...s, name: "stopped", advertAt: undefined, masterDownAt: undefined, wantMaster: false };
  return { state, actions: [...leaveMaster(s), { type: "transition", from: s.name, to: "stopped", priority: s.priority, reason }] };
}

function setPriority(s: MachineState, priority: number): StepResult {
  // Takes effect with the next advert (master) or the next comparison (backup).
  return { state: { ...s, priority }, actions: [] };
}

const same = (s: MachineState): StepResult => ({ state: s, actions: [] });

/** Master_Down_Timer fired: become master, or (sync group member) ask the group and wait. */
function masterDown(cfg: MachineConfig, s: MachineState, now: number, reason: string): StepResult {
  if (!cfg.synced) return toMaster(cfg, s, now, reason);
  // keepalived vrrp_sync: only go master when every member wants to, preferring backup to thrashing.
  return { state: { ...s, wantMaster: true, masterDownAt: undefined }, actions: [{ type: "want_master", reason }] };
}

/** Leaves master on the group's or the operator's word: priority 0 so the peer takes over after Skew_Time. */
function handOver(cfg: MachineConfig, s: MachineState, now: number, reason: string, extra: Partial<MachineState> = {}): StepResult {
  const r = toBackup(cfg, s, now, reason, extra);
  return { state: r.state, actions: [{ type: "send_advert", priority: 0 }, ...r.actions] };
}

type Handler<E extends MachineEvent> = (cfg: MachineConfig, s: MachineState, e: E, now: number) => StepResult;
type Row = { [K in MachineEvent["type"]]?: Handler<Extract<MachineEvent, { type: K }>> };

/** The transition table: state → event → handler. Missing entries ignore the event. */
export const TRANSITIONS: Record<VrrpStateName, Row> = {
  init: {
    // RFC 5798 §6.4.1: the address owner (255) becomes master at once, everyone else waits as backup.
    start: (cfg, s, _e, now) =>
      s.priority === 255
        ? toMaster(cfg, s, now, "address owner (priority 255)")
        : toBackup(cfg, s, now, "startup", { preemptAllowedAt: now + cfg.preemptDelay }),
    priority: (_c, s, e) => setPriority(s, e.priority),
    fault: (cfg, s, e, now) => toFault(cfg, s, now, e.reason),
    stop: (cfg, s, e, now) => toStopped(cfg, s, now, e.reason),
  },
  backup: {
    timer: (cfg, s, _e, now) => {
      if (s.masterDownAt === undefined || now < s.masterDownAt) return same(s);
      return masterDown(cfg, s, now, s.masterLeft ? `master ${s.masterIp ?? "?"} left (priority 0)` : "no advertisement within Master_Down_Interval");
    },
    // RFC 5798 §6.4.2 "If an ADVERTISEMENT is received".
    advert: (cfg, s, e, now) => {
      if (e.priority === 0) {
        const skew = skewTime(cfg, s.priority, s.masterAdverInterval);
        return { state: { ...s, masterDownAt: now + skew, masterIp: e.src, masterLeft: true }, actions: [{ type: "log", level: "info", message: "master is leaving (priority 0), taking over after Skew_Time", fields: { master: e.src, skewMs: Math.round(skew) } }] };
      }
      const mayPreempt = cfg.preempt && !s.demoted && now >= s.preemptAllowedAt;
      if (!mayPreempt || e.priority >= s.priority) {
        const masterAdverInterval = cfg.version === 3 ? e.advertInterval : s.masterAdverInterval;
        const next = { ...s, masterAdverInterval, masterIp: e.src, masterLeft: false, wantMaster: false };
        next.masterDownAt = now + masterDownInterval(cfg, next.priority, masterAdverInterval);
        return { state: next, actions: [] };
      }
      // Lower priority and we may preempt: discard, so Master_Down_Timer fires (RFC 5798 §6.4.2).
      const actions: Action[] = [];
      if (s.masterIp !== e.src) actions.push({ type: "log", level: "info", message: "lower-priority master, preempting", fields: { master: e.src, priority: e.priority, ours: s.priority } });
      return { state: { ...s, masterIp: e.src }, actions };
    },
    priority: (_c, s, e) => setPriority(s, e.priority),
    fault: (cfg, s, e, now) => toFault(cfg, s, now, e.reason),
    demote: (_c, s) => ({ state: { ...s, demoted: true, wantMaster: false }, actions: [] }),
    sync_master: (cfg, s, e, now) => (s.wantMaster ? toMaster(cfg, s, now, e.reason) : same(s)),
    stop: (cfg, s, e, now) => toStopped(cfg, s, now, e.reason),
  },
  master: {
    timer: (cfg, s, _e, now) => {
      if (s.advertAt === undefined || now < s.advertAt) return same(s);
      return { state: { ...s, advertAt: now + cfg.advertInterval }, actions: [{ type: "send_advert", priority: s.priority }] };
    },
    // RFC 5798 §6.4.3 "If an ADVERTISEMENT is received".
    advert: (cfg, s, e, now) => {
      if (e.priority === 0) {
        return { state: { ...s, advertAt: now + cfg.advertInterval }, actions: [{ type: "send_advert", priority: s.priority }] };
      }
      const theyWin = e.priority > s.priority || (e.priority === s.priority && compareIp(e.src, cfg.primaryIp) > 0);
      const report = s.splitBrainPeer !== e.src;
      const actions: Action[] = [];
      if (theyWin) {
        if (report) actions.push({ type: "split_brain", peer: e.src, peerPriority: e.priority, resolution: "yielding to the other master" });
        const masterAdverInterval = cfg.version === 3 ? e.advertInterval : s.masterAdverInterval;
        const r = toBackup(cfg, s, now, `higher ${e.priority > s.priority ? "priority" : "address at equal priority"} master ${e.src}`, { masterAdverInterval, masterIp: e.src });
        return { state: r.state, actions: [...actions, ...r.actions] };
      }
      if (!report) return same(s);
      // We win: discard (RFC) but advertise at once so the other master yields without waiting.
      actions.push({ type: "split_brain", peer: e.src, peerPriority: e.priority, resolution: "keeping master, the other must yield" });
      actions.push({ type: "send_advert", priority: s.priority });
      // The other master's gratuitous ARP may have moved the VIP in neighbours' caches: take it back.
      actions.push({ type: "garp" });
      return { state: { ...s, splitBrainPeer: e.src, advertAt: now + cfg.advertInterval }, actions };
    },
    priority: (_c, s, e) => setPriority(s, e.priority),
    fault: (cfg, s, e, now) => toFault(cfg, s, now, e.reason),
    demote: (cfg, s, _e, now) => handOver(cfg, s, now, "demoted by the operator", { demoted: true }),
    sync_backup: (cfg, s, e, now) => handOver(cfg, s, now, e.reason),
    stop: (cfg, s, e, now) => toStopped(cfg, s, now, e.reason),
  },
  fault: {
    recover: (cfg, s, e, now) => toBackup(cfg, s, now, e.reason, { preemptAllowedAt: now + cfg.preemptDelay }),
    priority: (_c, s, e) => setPriority(s, e.priority),
    stop: (cfg, s, e, now) => toStopped(cfg, s, now, e.reason),
  },
  stopped: {},
};

/**
 * One step of the machine: pure, no I/O. Returns the new state and the actions the driver must
 * execute in order (send, add/remove VIPs, gratuitous ARP, publish events, log).
 */
export function step(state: MachineState, event: MachineEvent, now: number): StepResult {
  const handler = TRANSITIONS[state.name][event.type] as Handler<MachineEvent> | undefined;
  return handler ? handler(state.config, state, event, now) : same(state);
}
