// Pure alert decisions with a FakeClock: alert on change, repeat, flap damping, rate limit.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../src/core/clock.ts";
import { type AlertInput, type AlertPolicy, type AlertState, initialAlertState, stepAlert } from "../../src/alerts/alert_state.ts";
import { rateAllow } from "../../src/alerts/rate_limit.ts";

const noFlap = { window: 0, threshold: 0 };

/** Feeds inputs one per `every` ms and returns the kinds of messages sent at each step ("" = none). */
function run(policy: AlertPolicy, inputs: (boolean | "tick")[], every = 60_000): { sent: string[]; state: AlertState } {
  const clock = new FakeClock();
  let state = initialAlertState(clock.now());
  const sent: string[] = [];
  for (const i of inputs) {
    const input: AlertInput = i === "tick" ? { tick: true } : { ok: i };
    const r = stepAlert(state, input, clock.now(), policy);
    state = r.state;
    sent.push(r.actions.map((a) => (a.suppressed ? `${a.kind}+${a.suppressed}` : a.kind)).join(","));
    clock.advance(every);
  }
  return { sent, state };
}

describe("alert state", () => {
  it("mails on change only: fail once, resolved once, nothing while it stays the same", () => {
    const { sent } = run({ flap: noFlap }, [true, true, false, false, false, true, true]);
    assert.deepEqual(sent, ["", "", "fail", "", "", "resolved", ""]);
  });

  it("a check that fails from the first run alerts at once; one that starts ok is silent", () => {
    assert.deepEqual(run({ flap: noFlap }, [false]).sent, ["fail"]);
    assert.deepEqual(run({ flap: noFlap }, [true]).sent, [""]);
  });

  it("repeats while still failing, every `repeat`", () => {
    const { sent } = run({ repeat: 3 * 60_000, flap: noFlap }, [false, false, false, false, false, false, false, true]);
    assert.deepEqual(sent, ["fail", "", "", "repeat", "", "", "repeat", "resolved"]);
  });

  it("damps flapping: one notice, silence, then the settled state", () => {
    // 3 changes within 5 minutes = flapping; it settles once a whole window passes without a change.
    const policy = { flap: { window: 5 * 60_000, threshold: 3 } };
    const { sent, state } = run(policy, [false, true, false, true, false, false, false, false, false, false, false]);
    assert.deepEqual(sent, ["fail", "resolved", "fail", "flapping", "", "", "", "", "", "", ""]);
    // It settled on failing, which was the last thing said: nothing more to send.
    assert.equal(state.flapping, false);
    const settledOk = run(policy, [false, true, false, true, true, true, true, true, true, true]);
    assert.deepEqual(settledOk.sent, ["fail", "resolved", "fail", "flapping", "", "", "", "", "resolved", ""]);
  });

  it("rate-limits per rule and reports what was held back", () => {
    const policy = { rateLimit: { count: 2, per: 10 * 60_000 }, flap: noFlap };
    const { sent } = run(policy, [false, true, false, true, false, false, false, false, false, false, false, false]);
    // fail, resolved pass; the next two failures are held back (the second stays pending) until the window allows it.
    assert.deepEqual(sent, ["fail", "resolved", "", "", "", "", "", "", "", "", "fail+2", ""]);
  });

  it("a tick re-evaluates repeat without a new result", () => {
    const { sent } = run({ repeat: 60_000, flap: noFlap }, [false, "tick", "tick"]);
    assert.deepEqual(sent, ["fail", "repeat", "repeat"]);
  });

  it("rateAllow uses a sliding window", () => {
    const limit = { count: 2, per: 1000 };
    let s = { sent: [] as number[] };
    const at = (t: number) => {
      const r = rateAllow(s, t, limit);
      s = r.state;
      return r.allowed;
    };
    assert.deepEqual([at(0), at(100), at(200), at(999), at(1000), at(1100), at(1150)], [true, true, false, false, true, true, false]);
  });
});
