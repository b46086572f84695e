// Pure grouping of event alerts: one message per window, identical events collapsed, rate limit.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../src/core/clock.ts";
import { addEvent, flushGroup, type GroupAction, type GroupState, initialGroupState } from "../../src/alerts/event_group.ts";

function driver(policy: { groupWindow: number; rateLimit?: { count: number; per: number } }) {
  const clock = new FakeClock();
  let state: GroupState = initialGroupState();
  const sent: { lines: string[]; suppressed: number }[] = [];
  const held: string[][] = [];
  const apply = (actions: GroupAction[]) => {
    for (const a of actions) {
      if (a.kind === "flush_at") clock.setTimeout(() => {
        const r = flushGroup(state, clock.now(), policy);
        state = r.state;
        apply(r.actions);
      }, a.at - clock.now());
      else if (a.kind === "send") sent.push({ lines: a.items.map((i) => (i.count > 1 ? `${i.line} x${i.count}` : i.line)), suppressed: a.suppressed });
      else held.push(a.items.map((i) => i.line));
    }
  };
  const add = (line: string) => {
    const r = addEvent(state, { line, vars: {} }, clock.now(), policy);
    state = r.state;
    apply(r.actions);
  };
  return { clock, add, sent, held };
}

describe("event grouping", () => {
  it("sends each event at once without a window", () => {
    const d = driver({ groupWindow: 0 });
    d.add("a");
    d.add("b");
    assert.deepEqual(d.sent, [{ lines: ["a"], suppressed: 0 }, { lines: ["b"], suppressed: 0 }]);
  });

  it("groups events inside the window into one message and collapses duplicates", () => {
    const d = driver({ groupWindow: 10_000 });
    d.add("CAS0 down");
    d.clock.advance(2000);
    d.add("CAS1 down");
    d.add("CAS0 down");
    d.clock.advance(7999);
    assert.equal(d.sent.length, 0);
    d.clock.advance(1);
    assert.deepEqual(d.sent, [{ lines: ["CAS0 down x2", "CAS1 down"], suppressed: 0 }]);
    d.clock.advance(5000);
    d.add("CAS0 up");
    d.clock.advance(10_000);
    assert.deepEqual(d.sent[1], { lines: ["CAS0 up"], suppressed: 0 });
  });

  it("rate-limits messages and reports the held-back events in the next one", () => {
    const d = driver({ groupWindow: 0, rateLimit: { count: 2, per: 60_000 } });
    for (const l of ["1", "2", "3", "4"]) d.add(l);
    assert.deepEqual(d.sent.map((s) => s.lines[0]), ["1", "2"]);
    assert.deepEqual(d.held, [["3"], ["4"]]);
    d.clock.advance(60_000);
    d.add("5");
    assert.deepEqual(d.sent[2], { lines: ["5"], suppressed: 2 });
  });
});
