// The rise/fall state machine of one server's health, as a pure step function (haproxy check.c).

import type { HealthCheckConfig } from "./config_types.ts";

/**
 * Which layer a check failed at, with haproxy's names: L4OK/L4TOUT/L4CON for the TCP connect,
 * L7OK/L7TOUT/L7RSP/L7STS for the HTTP exchange, SOCKERR for a local socket error.
 */
export type CheckStatus = "L4OK" | "L4TOUT" | "L4CON" | "L7OK" | "L7TOUT" | "L7RSP" | "L7STS" | "SOCKERR";

/** One probe's outcome. */
export interface CheckResult {
  ok: boolean;
  status: CheckStatus;
  /** Human detail: "connection refused", "HTTP status 503", "timeout after 2000ms"... */
  detail: string;
  /** How long the probe took, ms. */
  duration: number;
}

/**
 * haproxy's single health counter: 0..rise+fall-1, the server is up while health ≥ rise.
 * From full health it takes `fall` consecutive failures to go down; from 0 it takes `rise`
 * consecutive successes to come up; on a transition the counter jumps to the far end.
 */
export interface HealthState {
  up: boolean;
  health: number;
  last?: CheckResult;
}

export type HealthAction = { type: "went_up"; reason: string } | { type: "went_down"; reason: string; status: CheckStatus };

/** The state before the first check: full health if the server starts up, zero if down. */
export function initialHealth(check: Pick<HealthCheckConfig, "rise" | "fall">, initState: "up" | "down"): HealthState {
  return initState === "up" ? { up: true, health: check.rise + check.fall - 1 } : { up: false, health: 0 };
}

/** Describes a result for logs and events: "L4CON: connection refused". */
export function describeResult(r: CheckResult): string {
  return `${r.status}: ${r.detail}`;
}

type Row = (s: HealthState, max: number, rise: number, r: CheckResult) => { state: HealthState; actions: HealthAction[] };

/** Transition table keyed by [current state][result]. */
const TABLE: Record<"up" | "down", Record<"ok" | "fail", Row>> = {
  up: {
    ok: (s, max, _rise, r) => ({ state: { up: true, health: Math.min(max, s.health + 1), last: r }, actions: [] }),
    fail: (s, _max, rise, r) => {
      const health = s.health - 1;
      if (health >= rise) return { state: { up: true, health, last: r }, actions: [] };
      return { state: { up: false, health: 0, last: r }, actions: [{ type: "went_down", reason: describeResult(r), status: r.status }] };
    },
  },
  down: {
    ok: (s, max, rise, r) => {
      const health = s.health + 1;
      if (health < rise) return { state: { up: false, health, last: r }, actions: [] };
      return { state: { up: true, health: max, last: r }, actions: [{ type: "went_up", reason: describeResult(r) }] };
    },
    fail: (s, _max, _rise, r) => ({ state: { up: false, health: Math.max(0, s.health - 1), last: r }, actions: [] }),
  },
};

/** Applies one check result. Pure: returns the new state and what the caller must announce. */
export function stepHealth(
  state: HealthState,
  result: CheckResult,
  check: Pick<HealthCheckConfig, "rise" | "fall">,
): { state: HealthState; actions: HealthAction[] } {
  const max = check.rise + check.fall - 1;
  return TABLE[state.up ? "up" : "down"][result.ok ? "ok" : "fail"](state, max, check.rise, result);
}

/**
 * Delay before the next check (haproxy semantics): `interval` while steadily up, `fastinterval`
 * while in transition (up with failures counted, or down with successes counted),
 * `downinterval` while steadily down.
 */
export function nextCheckDelay(state: HealthState, check: Pick<HealthCheckConfig, "rise" | "fall" | "interval" | "fastinterval" | "downinterval">): number {
  const max = check.rise + check.fall - 1;
  if (state.up) return state.health >= max ? check.interval : check.fastinterval;
  return state.health > 0 ? check.fastinterval : check.downinterval;
}
