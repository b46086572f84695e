// Tests for tracking: keepalived weight semantics and script rise/fall.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { computePriority, Tracker, type TrackResult } from "../../src/vrrp/track.ts";

test("weight 0 failing → fault; positive weights add while OK; negative while failing; clamped", () => {
  assert.equal(computePriority(100, [{ name: "a", weight: 0, ok: false, detail: "down" }]).fault, "a: down");
  assert.equal(computePriority(100, [{ name: "a", weight: 20, ok: true, detail: "" }, { name: "b", weight: 20, ok: false, detail: "" }]).priority, 120);
  assert.equal(computePriority(100, [{ name: "a", weight: -30, ok: false, detail: "" }]).priority, 70);
  assert.equal(computePriority(100, [{ name: "a", weight: -253, ok: false, detail: "" }]).priority, 1);
  assert.equal(computePriority(250, [{ name: "a", weight: 253, ok: true, detail: "" }]).priority, 254);
  assert.equal(computePriority(255, [{ name: "a", weight: -50, ok: false, detail: "" }]).priority, 255);
});

test("scripts: fall failures to fail, rise successes to recover, onChange on each change", async () => {
  const clock = new FakeClock();
  const results: boolean[] = [false, false, true, true];
  const changes: TrackResult[] = [];
  const t = new Tracker({
    base: 100, clock, implicitInterfaces: [], onChange: (r) => changes.push(r),
    track: { interfaces: [], scripts: [{ name: "chk", command: "x", interval: 1000, timeout: 500, rise: 2, fall: 2, weight: -50 }] },
    sources: { linkUp: () => ({ up: true, detail: "" }), runScript: async () => ({ ok: results.shift() ?? true, code: 0, reason: "r", output: "" }) },
  });
  t.start();
  const tick = async () => {
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
  };
  clock.advance(0);
  await new Promise((r) => setImmediate(r)); // run 1: fail (1/2)
  assert.equal(t.evaluate().priority, 100);
  await tick(); // run 2: fail (2/2) → failing
  assert.equal(t.evaluate().priority, 50);
  await tick(); // success 1/2
  assert.equal(t.evaluate().priority, 50);
  await tick(); // success 2/2 → passing
  assert.equal(t.evaluate().priority, 100);
  assert.deepEqual(changes.map((c) => c.priority), [50, 100]);
  t.stop();
});

test("track.proxy passes its min_servers to the proxy: a number, or per backend", () => {
  const asked: unknown[] = [];
  const t = new Tracker({
    base: 100, clock: new FakeClock(), implicitInterfaces: [], onChange: () => {},
    track: { interfaces: [], scripts: [], proxy: { weight: 0, minServers: { "db-write": 1 } } },
    sources: { linkUp: () => ({ up: true, detail: "" }), runScript: async () => ({ ok: true, code: 0, reason: "", output: "" }), proxyHealth: (p, n) => (asked.push([p, n]), { healthy: false, reason: `"db-write" has 0 server(s) up, needs 1` }) },
  });
  assert.equal(t.evaluate().fault, `proxy: "db-write" has 0 server(s) up, needs 1`);
  assert.deepEqual(asked, [[undefined, { "db-write": 1 }]]);
});
