// The health state machine: rise/fall counting, intervals, initial state.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { initialHealth, nextCheckDelay, stepHealth } from "../../src/proxy/health_state.ts";
import type { CheckResult, HealthState } from "../../src/proxy/health_state.ts";

const check = { rise: 2, fall: 3, interval: 1000, fastinterval: 100, downinterval: 5000 };
const ok: CheckResult = { ok: true, status: "L4OK", detail: "connected", duration: 1 };
const refused: CheckResult = { ok: false, status: "L4CON", detail: "connection refused", duration: 1 };

function run(state: HealthState, results: CheckResult[]): { state: HealthState; actions: string[] } {
  const actions: string[] = [];
  for (const r of results) {
    const out = stepHealth(state, r, check);
    state = out.state;
    for (const a of out.actions) actions.push(a.type);
  }
  return { state, actions };
}

describe("health state machine", () => {
  it("goes down after exactly `fall` consecutive failures", () => {
    const s = initialHealth(check, "up");
    assert.deepEqual(run(s, [refused, refused]).actions, []);
    const out = run(s, [refused, refused, refused]);
    assert.deepEqual(out.actions, ["went_down"]);
    assert.equal(out.state.up, false);
    assert.equal(out.state.last?.status, "L4CON");
  });

  it("comes back after exactly `rise` consecutive successes", () => {
    const s = initialHealth(check, "down");
    assert.deepEqual(run(s, [ok]).actions, []);
    assert.deepEqual(run(s, [ok, ok]).actions, ["went_up"]);
  });

  it("a success in between delays going down (haproxy counter)", () => {
    const s = initialHealth(check, "up");
    // health 4 → 3 → 2 → 3 → 2 (still up) → 1 (< rise: down)
    assert.deepEqual(run(s, [refused, refused, ok, refused]).actions, []);
    assert.deepEqual(run(s, [refused, refused, ok, refused, refused]).actions, ["went_down"]);
  });

  it("reports the down reason with the layer", () => {
    const s = run(initialHealth(check, "up"), [refused, refused]).state;
    const out = stepHealth(s, { ok: false, status: "L7STS", detail: "HTTP status 503", duration: 2 }, check);
    assert.deepEqual(out.actions, [{ type: "went_down", reason: "L7STS: HTTP status 503", status: "L7STS" }]);
  });

  it("chooses interval / fastinterval / downinterval", () => {
    const up = initialHealth(check, "up");
    assert.equal(nextCheckDelay(up, check), 1000);
    assert.equal(nextCheckDelay(run(up, [refused]).state, check), 100);
    const down = initialHealth(check, "down");
    assert.equal(nextCheckDelay(down, check), 5000);
    assert.equal(nextCheckDelay(run(down, [ok]).state, check), 100);
    assert.equal(nextCheckDelay(run(down, [ok, ok]).state, check), 1000);
  });

  it("rise 1 / fall 1 flips on every result", () => {
    const c = { rise: 1, fall: 1 };
    let s = initialHealth(c, "up");
    let out = stepHealth(s, refused, c);
    assert.equal(out.actions[0]?.type, "went_down");
    s = out.state;
    out = stepHealth(s, ok, c);
    assert.equal(out.actions[0]?.type, "went_up");
  });
});
