// Pure alert decisions for a scheduled check: alert on change, repeat, flap damping, rate limit.

import { emptyRate, type RateLimit, rateAllow, type RateState } from "./rate_limit.ts";

/** The knobs of one rule that the decision needs. */
export interface AlertPolicy {
  /** Re-send while still failing, every `repeat` ms (absent: once). */
  repeat?: number;
  rateLimit?: RateLimit;
  /** `threshold` status changes within `window` ms = flapping (0 disables). */
  flap: { window: number; threshold: number };
}

export type CheckStatus = "unknown" | "ok" | "failing";

/** What is known about one rule. Times are the caller's clock (monotonic ms). */
export interface AlertState {
  status: CheckStatus;
  /** What people were last told: silence means ok. */
  notified: "ok" | "failing";
  since: number;
  /** Times of status changes inside the flap window. */
  changes: number[];
  flapping: boolean;
  lastSentAt?: number;
  rate: RateState;
  /** Messages held back by the rate limit since the last one sent. */
  suppressed: number;
  /** The kind currently held back (a message still wanted is counted once, not at every step). */
  held?: AlertAction["kind"];
}

/** A message to send. */
export interface AlertAction {
  kind: "fail" | "resolved" | "repeat" | "flapping";
  /** How many messages the rate limit held back before this one. */
  suppressed: number;
}

/** An input: a check result, or a tick (re-evaluate repeat/flap without a new result). */
export type AlertInput = { ok: boolean } | { tick: true };

export function initialAlertState(now: number): AlertState {
  return { status: "unknown", notified: "ok", since: now, changes: [], flapping: false, rate: emptyRate, suppressed: 0 };
}

/** The message the current state calls for, before the rate limit. */
function wanted(s: AlertState, now: number, policy: AlertPolicy): AlertAction["kind"] | undefined {
  if (s.flapping || s.status === "unknown") return undefined;
  if (s.status === "failing" && s.notified === "ok") return "fail";
  if (s.status === "ok" && s.notified === "failing") return "resolved";
  if (s.status === "failing" && policy.repeat && policy.repeat > 0 && s.lastSentAt !== undefined && now - s.lastSentAt >= policy.repeat) return "repeat";
  return undefined;
}

/**
 * One step: applies a result (or a tick) at `now`, returns the new state and the messages to send.
 * - fail → one "fail" message; recovery → one "resolved" message (nothing while it stays the same);
 * - still failing after `repeat` → "repeat";
 * - `threshold` changes within `window` → one "flapping" message, then silence until no change
 *   for a whole window, after which the settled state is reported if it differs from the last one told;
 * - every message goes through the rate limit; held-back ones are counted and reported with the next.
 */
export function stepAlert(state: AlertState, input: AlertInput, now: number, policy: AlertPolicy): { state: AlertState; actions: AlertAction[] } {
  const s: AlertState = { ...state };
  let changed = false;
  if ("ok" in input) {
    const status: CheckStatus = input.ok ? "ok" : "failing";
    if (status !== s.status) {
      changed = true;
      if (s.status !== "unknown") s.changes = [...s.changes, now];
      s.status = status;
      s.since = now;
    }
  }
  const { window, threshold } = policy.flap;
  const flapOn = window > 0 && threshold > 0;
  s.changes = flapOn ? s.changes.filter((t) => now - t < window) : [];
  const kinds: AlertAction["kind"][] = [];
  if (flapOn && !s.flapping && s.changes.length >= threshold) {
    s.flapping = true;
    kinds.push("flapping");
  } else if (s.flapping && s.changes.length === 0) {
    s.flapping = false;
  }
  const want = wanted(s, now, policy);
  if (want) kinds.push(want);
  const actions: AlertAction[] = [];
  for (const kind of kinds) {
    const r = rateAllow(s.rate, now, policy.rateLimit);
    s.rate = r.state;
    if (!r.allowed) {
      if (changed || s.held !== kind) s.suppressed++;
      s.held = kind;
      continue;
    }
    actions.push({ kind, suppressed: s.suppressed });
    s.suppressed = 0;
    s.held = undefined;
    s.lastSentAt = now;
    if (kind === "fail" || kind === "repeat") s.notified = "failing";
    if (kind === "resolved") s.notified = "ok";
  }
  return { state: s, actions };
}
