// The BGP session state machine (RFC 4271 §8) as a pure step function over a table, for a speaker
// that only announces and only opens connections itself: RFC 4271 §8.2.1.1 makes passive TCP
// establishment optional, so the Active state (waiting for the peer to connect) is never entered.

import { CEASE, describeNotification, ERR, FSM_ERR, OPEN_ERR } from "./notification.ts";
import type { Notification } from "./notification.ts";
import { CAP, ourCapabilities, summarizeOpen } from "./message.ts";
import type { BgpMessage, Capability, OpenMessage } from "./message.ts";
import { prefixText } from "./prefix.ts";
import type { Prefix } from "./prefix.ts";
import type { RouteAttributes, UpdateSpec } from "./update.ts";

export type SessionStateName = "idle" | "connect" | "opensent" | "openconfirm" | "established";

/** What the machine needs from the configuration of one peer. */
export interface SessionConfig {
  localAs: number;
  peerAs: number;
  routerId: string;
  /** Our Hold Time in seconds: 0, or 3..65535 (RFC 4271 §4.2). */
  holdTime: number;
  /** The family of the peer's address: only routes of this family go to it. */
  family: 4 | 6;
  /** LOCAL_PREF sent to an internal peer. */
  localPref: number;
  /** ms before the first reconnection; doubled per consecutive failure up to retryMax. */
  retry: number;
  retryMax: number;
  /** ms the TCP connection may take. */
  connectTimeout: number;
}

/** A route the announcer wants the peer to have. */
export interface WantedRoute {
  prefix: Prefix;
  med?: number;
  communities: number[];
  largeCommunities: [number, number, number][];
}

/** What the OPEN exchange settled. */
export interface Negotiated {
  /** Seconds; 0 = neither keepalives nor a hold timer. */
  holdTime: number;
  as4: boolean;
  families: (4 | 6)[];
  routeRefresh: boolean;
  peerId: string;
}

export interface SessionState {
  name: SessionStateName;
  config: SessionConfig;
  /** Stopped by the operator (ManualStop): no reconnection until the next start. */
  stopped: boolean;
  /** Consecutive failures, for the reconnection delay. */
  failures: number;
  /** Deadlines, monotonic ms. */
  retryAt?: number;
  connectUntil?: number;
  holdAt?: number;
  keepaliveAt?: number;
  /** Our end of the TCP connection: the NEXT_HOP we announce. */
  localAddress?: string;
  negotiated?: Negotiated;
  establishedAt?: number;
  wanted: WantedRoute[];
  /** Adj-RIB-Out: prefix → attributes key of what the peer holds from us in this session. */
  sent: Record<string, string>;
  /** When the state last changed (monotonic ms). */
  since: number;
  lastError?: string;
}

export type SessionEvent =
  | { type: "start" }
  /** ManualStop: a Cease (Administrative Shutdown unless subcode says otherwise) with a message. */
  | { type: "stop"; reason: string; subcode?: number }
  | { type: "timer" }
  | { type: "connected"; localAddress: string }
  | { type: "connect_failed"; reason: string }
  | { type: "closed"; reason: string }
  | { type: "message"; message: BgpMessage }
  /** The peer sent bytes RFC 4271 §6 answers with this NOTIFICATION. */
  | { type: "malformed"; notification: Notification; reason: string }
  | { type: "routes"; routes: WantedRoute[] };

export type OutMessage =
  | { type: "open"; localAs: number; holdTime: number; routerId: string; capabilities: Capability[] }
  | { type: "keepalive" }
  | { type: "notification"; notification: Notification; shutdown?: string }
  | { type: "update"; spec: UpdateSpec };

export type SessionAction =
  | { type: "connect" }
  | { type: "send"; message: OutMessage }
  /** Close the connection after what was sent has left. */
  | { type: "close" }
  | { type: "transition"; from: SessionStateName; to: SessionStateName; reason: string }
  | { type: "notification_received"; notification: Notification }
  | { type: "log"; level: "debug" | "info" | "warn"; message: string };

export interface StepResult {
  state: SessionState;
  actions: SessionAction[];
}

/** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN is "a large value" (4 minutes). */
export const OPEN_HOLD = 240_000;
/** A session up this long resets the failure count, so one flap later reconnects at once. */
export const STABLE_AFTER = 60_000;

/** The state before start. */
export function initialState(config: SessionConfig, now: number): SessionState {
  return { name: "idle", config, stopped: true, failures: 0, wanted: [], sent: {}, since: now };
}

/** The earliest deadline the driver must wake up for, if any. */
export function nextDeadline(s: SessionState): number | undefined {
  const t = [s.retryAt, s.connectUntil, s.holdAt, s.keepaliveAt].filter((x): x is number => x !== undefined);
  return t.length ? Math.min(...t) : undefined;
}

/** ms before reconnection after `failures` consecutive failures. */
export function retryDelay(cfg: SessionConfig, failures: number): number {
  return Math.min(cfg.retryMax, cfg.retry * 2 ** Math.min(Math.max(0, failures - 1), 16));
}

const ebgp = (cfg: SessionConfig) => cfg.localAs !== cfg.peerAs;

/** The attributes a route carries to this peer. */
export function attributesFor(s: SessionState, r: WantedRoute): RouteAttributes {
  const cfg = s.config;
  return {
    asPath: ebgp(cfg) ? [cfg.localAs] : [],
    nextHop: s.localAddress ?? "",
    med: r.med,
    localPref: ebgp(cfg) ? undefined : cfg.localPref,
    communities: r.communities,
    largeCommunities: r.largeCommunities,
  };
}

/**
 * Brings the peer's Adj-RIB-Out to the wanted routes: one UPDATE spec for the withdrawals and one
 * per distinct set of attributes. `all` re-sends everything (ROUTE-REFRESH, RFC 2918 §4).
 */
function sync(s: SessionState, all = false): { sent: Record<string, string>; actions: SessionAction[] } {
  const fam = s.config.family;
  if (!s.negotiated?.families.includes(fam)) return { sent: s.sent, actions: [] };
  const want = new Map<string, { prefix: Prefix; attrs: RouteAttributes; key: string }>();
  for (const r of s.wanted) {
    if (r.prefix.family !== fam) continue;
    const attrs = attributesFor(s, r);
    want.set(prefixText(r.prefix), { prefix: r.prefix, attrs, key: JSON.stringify(attrs) });
  }
  const sent: Record<string, string> = {};
  const withdraw: Prefix[] = [];
  for (const key of Object.keys(s.sent)) {
    if (want.has(key)) continue;
    const [address, length] = key.split("/");
    withdraw.push({ family: fam, address, length: Number(length) });
  }
  const groups = new Map<string, { attributes: RouteAttributes; prefixes: Prefix[] }>();
  for (const [text, w] of want) {
    sent[text] = w.key;
    if (!all && s.sent[text] === w.key) continue;
    const g = groups.get(w.key) ?? { attributes: w.attrs, prefixes: [] };
    g.prefixes.push(w.prefix);
    groups.set(w.key, g);
  }
  const actions: SessionAction[] = [];
  if (withdraw.length) actions.push({ type: "send", message: { type: "update", spec: { family: fam, withdraw } } });
  for (const g of groups.values()) actions.push({ type: "send", message: { type: "update", spec: { family: fam, withdraw: [], announce: g } } });
  return { sent, actions };
}

/** Checks the peer's OPEN against the configuration (RFC 4271 §6.2, RFC 5492 §5). */
export function checkOpen(cfg: SessionConfig, open: OpenMessage): { notification: Notification; reason: string } | Negotiated {
  const sum = summarizeOpen(open);
  const fail = (subcode: number, reason: string, data = new Uint8Array(0)) => ({ notification: { code: ERR.OPEN, subcode, data }, reason });
  if (sum.as !== cfg.peerAs) return fail(OPEN_ERR.BAD_PEER_AS, `the peer says it is AS ${sum.as}, configured as AS ${cfg.peerAs}`);
  // RFC 6286 §2.2: within an AS two speakers must not share an identifier.
  if (!ebgp(cfg) && open.routerId === cfg.routerId) return fail(OPEN_ERR.BAD_BGP_ID, `the internal peer uses our own identifier ${open.routerId}`, Uint8Array.from(open.routerId.split(".").map(Number)));
  if (!sum.families.includes(cfg.family)) {
    const cap = ourCapabilities(cfg.localAs, [cfg.family]).find((c) => c.code === CAP.MULTIPROTOCOL)!;
    return fail(OPEN_ERR.UNSUPPORTED_CAPABILITY, `the peer does not offer IPv${cfg.family} unicast`, Uint8Array.from([cap.code, cap.value.length, ...cap.value]));
  }
  return { holdTime: Math.min(cfg.holdTime, open.holdTime), as4: sum.as4, families: sum.families, routeRefresh: sum.routeRefresh, peerId: open.routerId };
}

// ---- transitions shared by several states ----

/** Back to Idle: optionally a NOTIFICATION first, then close; reconnect later unless stopped. */
function toIdle(s: SessionState, now: number, reason: string, o: { notify?: Notification; shutdown?: string; stop?: boolean } = {}): StepResult {
  const actions: SessionAction[] = [];
  if (o.notify) actions.push({ type: "send", message: { type: "notification", notification: o.notify, shutdown: o.shutdown } });
  if (s.name !== "idle") actions.push({ type: "close" });
  const stopped = o.stop ?? s.stopped;
  const wasStable = s.establishedAt !== undefined && now - s.establishedAt >= STABLE_AFTER;
  const failures = stopped ? 0 : (wasStable ? 0 : s.failures) + 1;
  const next: SessionState = {
    ...s, name: "idle", stopped, failures, retryAt: stopped ? undefined : now + retryDelay(s.config, failures),
    connectUntil: undefined, holdAt: undefined, keepaliveAt: undefined, localAddress: undefined, negotiated: undefined,
    establishedAt: undefined, sent: {}, since: s.name === "idle" ? s.since : now, lastError: o.stop ? s.lastError : reason,
  };
  if (s.name !== "idle") actions.push({ type: "transition", from: s.name, to: "idle", reason });
  return { state: next, actions };
}

function toConnect(s: SessionState, now: number, reason: string): StepResult {
  const next: SessionState = { ...s, name: "connect", stopped: false, retryAt: undefined, connectUntil: now + s.config.connectTimeout, since: now };
  return { state: next, actions: [{ type: "connect" }, { type: "transition", from: s.name, to: "connect", reason }] };
}

const same = (s: SessionState): StepResult => ({ state: s, actions: [] });

const cease = (subcode: number): Notification => ({ code: ERR.CEASE, subcode, data: new Uint8Array(0) });

/** ManualStop in a state with a session: Cease with the reason as Shutdown Communication (RFC 9003). */
function manualStop(s: SessionState, now: number, e: { reason: string; subcode?: number }): StepResult {
  const subcode = e.subcode ?? CEASE.ADMIN_SHUTDOWN;
  return toIdle(s, now, `stopped: ${e.reason}`, { notify: cease(subcode), shutdown: e.reason, stop: true });
}

/** RFC 6608: a message the state does not expect. */
function unexpected(s: SessionState, now: number, type: string, subcode: number): StepResult {
  return toIdle(s, now, `unexpected ${type.toUpperCase()} in ${s.name}`, { notify: { code: ERR.FSM, subcode, data: new Uint8Array(0) } });
}

function peerNotified(s: SessionState, now: number, n: Notification): StepResult {
  const r = toIdle(s, now, `the peer sent NOTIFICATION ${describeNotification(n)}`);
  return { state: r.state, actions: [{ type: "notification_received", notification: n }, ...r.actions] };
}

function holdExpired(s: SessionState, now: number): StepResult {
  // RFC 4271 §6.5.
  return toIdle(s, now, "hold timer expired: nothing heard from the peer", { notify: { code: ERR.HOLD_TIMER, subcode: 0, data: new Uint8Array(0) } });
}

/** Timers of a state with a negotiated session: hold expiry first, then a keepalive due. */
function sessionTimer(s: SessionState, now: number): StepResult {
  if (s.holdAt !== undefined && now >= s.holdAt) return holdExpired(s, now);
  if (s.keepaliveAt !== undefined && now >= s.keepaliveAt) {
    const ka = keepaliveInterval(s);
    return { state: { ...s, keepaliveAt: now + ka }, actions: [{ type: "send", message: { type: "keepalive" } }] };
  }
  return same(s);
}

/** RFC 4271 §4.4: one third of the hold time. */
function keepaliveInterval(s: SessionState): number {
  return ((s.negotiated?.holdTime ?? 0) * 1000) / 3;
}

/** A message restarts the hold timer (RFC 4271 §8.2.2, events 26 and 27). */
function heard(s: SessionState, now: number): SessionState {
  const hold = (s.negotiated?.holdTime ?? 0) * 1000;
  return hold > 0 ? { ...s, holdAt: now + hold } : s;
}

/** Any message type other than NOTIFICATION, as the name used in logs. */
const kind = (m: BgpMessage) => m.type.replace("_", "-");

type Handler<E extends SessionEvent> = (s: SessionState, e: E, now: number) => StepResult;
type Row = { [K in SessionEvent["type"]]?: Handler<Extract<SessionEvent, { type: K }>> };

const keepRoutes: Handler<Extract<SessionEvent, { type: "routes" }>> = (s, e) => same({ ...s, wanted: e.routes });
const closed: Handler<Extract<SessionEvent, { type: "closed" }>> = (s, e, now) => toIdle(s, now, `connection closed: ${e.reason}`);
const malformed: Handler<Extract<SessionEvent, { type: "malformed" }>> = (s, e, now) => toIdle(s, now, `bad message from the peer: ${e.reason}`, { notify: e.notification });
const stop: Handler<Extract<SessionEvent, { type: "stop" }>> = (s, e, now) => manualStop(s, now, e);

/** The transition table: state → event → handler. Missing entries ignore the event. */
export const TRANSITIONS: Record<SessionStateName, Row> = {
  idle: {
    start: (s, _e, now) => toConnect(s, now, "start"),
    timer: (s, _e, now) => (!s.stopped && s.retryAt !== undefined && now >= s.retryAt ? toConnect(s, now, "reconnecting") : same(s)),
    stop: (s) => same({ ...s, stopped: true, retryAt: undefined }),
    routes: keepRoutes,
  },
  connect: {
    // RFC 4271 §8.2.2 (Connect, event 16/17): send OPEN, set the hold timer to a large value.
    connected: (s, e, now) => {
      const c = s.config;
      const next: SessionState = { ...s, name: "opensent", connectUntil: undefined, localAddress: e.localAddress, holdAt: now + OPEN_HOLD, since: now };
      const open: OutMessage = { type: "open", localAs: c.localAs, holdTime: c.holdTime, routerId: c.routerId, capabilities: ourCapabilities(c.localAs, [c.family]) };
      return { state: next, actions: [{ type: "send", message: open }, { type: "transition", from: "connect", to: "opensent", reason: `connected from ${e.localAddress}` }] };
    },
    connect_failed: (s, e, now) => toIdle(s, now, `cannot connect: ${e.reason}`),
    timer: (s, _e, now) => (s.connectUntil !== undefined && now >= s.connectUntil ? toIdle(s, now, `cannot connect: no answer within ${s.config.connectTimeout}ms`) : same(s)),
    closed,
    stop: (s, e, now) => toIdle(s, now, `stopped: ${e.reason}`, { stop: true }),
    routes: keepRoutes,
  },
  opensent: {
    message: (s, e, now) => {
      const m = e.message;
      if (m.type === "notification") return peerNotified(s, now, m);
      if (m.type !== "open") return unexpected(s, now, kind(m), FSM_ERR.IN_OPENSENT);
      const r = checkOpen(s.config, m);
      if ("notification" in r) return toIdle(s, now, `refused the peer's OPEN: ${r.reason}`, { notify: r.notification });
      const hold = r.holdTime * 1000;
      const next: SessionState = { ...s, name: "openconfirm", negotiated: r, holdAt: hold ? now + hold : undefined, keepaliveAt: hold ? now + hold / 3 : undefined, since: now };
      return {
        state: next,
        actions: [
          { type: "send", message: { type: "keepalive" } },
          { type: "transition", from: "opensent", to: "openconfirm", reason: `OPEN from ${r.peerId}, hold time ${r.holdTime}s` },
        ],
      };
    },
    timer: (s, _e, now) => (s.holdAt !== undefined && now >= s.holdAt ? holdExpired(s, now) : same(s)),
    closed,
    malformed,
    stop,
    routes: keepRoutes,
  },
  openconfirm: {
    message: (s, e, now) => {
      const m = e.message;
      if (m.type === "notification") return peerNotified(s, now, m);
      if (m.type !== "keepalive") return unexpected(s, now, kind(m), FSM_ERR.IN_OPENCONFIRM);
      const up: SessionState = { ...heard(s, now), name: "established", establishedAt: now, since: now };
      const { sent, actions } = sync(up);
      return { state: { ...up, sent }, actions: [{ type: "transition", from: "openconfirm", to: "established", reason: "KEEPALIVE received" }, ...actions] };
    },
    timer: (s, _e, now) => sessionTimer(s, now),
    closed,
    malformed,
    stop,
    routes: keepRoutes,
  },
  established: {
    message: (s, e, now) => {
      const m = e.message;
      if (m.type === "notification") return peerNotified(s, now, m);
      if (m.type === "open") return unexpected(s, now, kind(m), FSM_ERR.IN_ESTABLISHED);
      const next = heard(s, now);
      if (m.type === "route_refresh") {
        // RFC 2918 §4: answer with the whole Adj-RIB-Out of that family.
        const { sent, actions } = sync(next, true);
        return { state: { ...next, sent }, actions };
      }
      return same(next);
    },
    routes: (s, e) => {
      const next = { ...s, wanted: e.routes };
      const { sent, actions } = sync(next);
      return { state: { ...next, sent }, actions };
    },
    timer: (s, _e, now) => sessionTimer(s, now),
    closed,
    malformed,
    stop,
  },
};

/**
 * One step of the machine: pure, no I/O. Returns the new state and the actions the driver runs in
 * order (connect, send, close, report the transition, log).
 */
export function step(state: SessionState, event: SessionEvent, now: number): StepResult {
  const handler = TRANSITIONS[state.name][event.type] as Handler<SessionEvent> | undefined;
  return handler ? handler(state, event, now) : same(state);
}
