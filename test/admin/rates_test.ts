import { test } from "node:test";
import assert from "node:assert/strict";
import { RateMeter } from "../../src/admin/rates.ts";

test("rate is the growth per second over the window; 0 until a second of history", () => {
  const r = new RateMeter(10_000);
  assert.equal(r.observe("a", 100, 0), 0);
  assert.equal(r.observe("a", 105, 500), 0);
  assert.equal(r.observe("a", 110, 1000), 10);
  assert.equal(r.observe("a", 150, 5000), 10);
  // Old samples leave the window: only the last 10 s count.
  r.observe("a", 150, 12_000);
  assert.equal(r.observe("a", 150, 20_000), 0);
});

test("a counter that went down starts over; unobserved keys are pruned", () => {
  const r = new RateMeter(1000);
  r.observe("s", 50, 0);
  assert.equal(r.observe("s", 60, 1000), 10);
  assert.equal(r.observe("s", 5, 2000), 0);
  assert.equal(r.observe("s", 15, 3000), 10);
  r.prune(10_000);
  assert.equal(r.observe("s", 100, 10_000), 0, "history forgotten");
});
