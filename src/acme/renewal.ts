// When to order a certificate: a pure step() over a transition table (idle, ordering, backoff), time passed in.

export type Phase = "idle" | "ordering" | "backoff";

export interface RenewState {
  phase: Phase;
  /** Failed orders in a row. */
  failures: number;
  /** Wall ms of the next try while in backoff. */
  retryAt: number;
}

export type RenewEvent =
  /** A periodic look: `notAfter` of the certificate in use (undefined: none yet); `leader`: this host orders (it holds the VIP). */
  | { type: "tick"; now: number; notAfter: number | undefined; leader: boolean }
  | { type: "issued"; now: number }
  | { type: "failed"; now: number; reason: string };

export type RenewAction = { type: "order" } | { type: "report_failure"; reason: string; retryIn: number };

export interface RenewPolicy {
  /** Order when less than this is left. */
  renewBefore: number;
  /** First wait after a failure; doubles per failure up to retryMax. */
  retry: number;
  retryMax: number;
}

export const INITIAL: RenewState = { phase: "idle", failures: 0, retryAt: 0 };

type Out = { state: RenewState; actions: RenewAction[] };
type Handler = (s: RenewState, e: RenewEvent, p: RenewPolicy) => Out;

const stay = (s: RenewState): Out => ({ state: s, actions: [] });
const order = (s: RenewState): Out => ({ state: { ...s, phase: "ordering" }, actions: [{ type: "order" }] });
const due = (e: { now: number; notAfter: number | undefined }, p: RenewPolicy) => e.notAfter === undefined || e.notAfter - e.now <= p.renewBefore;

/** Backoff after a failure (RFC 8555 §6.6 asks clients not to hammer a CA): retry · 2^(failures-1), capped. */
export function backoff(failures: number, p: RenewPolicy): number {
  return Math.min(p.retryMax, p.retry * 2 ** Math.max(0, failures - 1));
}

const failed: Handler = (s, e, p) => {
  const failures = s.failures + 1;
  const wait = backoff(failures, p);
  const reason = e.type === "failed" ? e.reason : "";
  return { state: { phase: "backoff", failures, retryAt: e.now + wait }, actions: [{ type: "report_failure", reason, retryIn: wait }] };
};
const issued: Handler = () => ({ state: INITIAL, actions: [] });

/** phase → event → what happens. Events not listed leave the state as it is. */
const TABLE: Record<Phase, Partial<Record<RenewEvent["type"], Handler>>> = {
  idle: {
    tick: (s, e, p) => (e.type === "tick" && e.leader && due(e, p) ? order(s) : stay(s)),
    issued,
  },
  ordering: {
    issued,
    failed,
  },
  backoff: {
    // A certificate installed meanwhile (by the peer) that is not due ends the backoff.
    tick: (s, e, p) => (e.type !== "tick" ? stay(s) : !due(e, p) ? { state: INITIAL, actions: [] } : e.leader && e.now >= s.retryAt ? order(s) : stay(s)),
    issued,
  },
};

/** One transition: the next state and what to do. Pure. */
export function step(s: RenewState, e: RenewEvent, p: RenewPolicy): Out {
  const h = TABLE[s.phase][e.type];
  return h ? h(s, e, p) : stay(s);
}

/** Wall ms when the next tick can change something (for the scheduler; it still wakes at least every 30 s). */
export function nextDue(s: RenewState, notAfter: number | undefined, p: RenewPolicy): number {
  if (s.phase === "backoff") return s.retryAt;
  if (s.phase === "ordering") return Infinity;
  return notAfter === undefined ? 0 : notAfter - p.renewBefore;
}
