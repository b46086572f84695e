// The event bus and the fake clock.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EventBus } from "../../src/core/events.ts";
import { FakeClock } from "../../src/core/clock.ts";

test("the bus delivers typed events; a throwing subscriber does not break the publisher", () => {
  const errors: string[] = [];
  const bus = new EventBus({ onError: (_e, name) => errors.push(name), wallNow: () => 42 });
  const seen: string[] = [];
  bus.on("server.down", () => {
    throw new Error("boom");
  });
  const off = bus.on("server.down", (d, at) => seen.push(`${d.proxy}/${d.server}@${at}`));
  bus.onAny((e) => seen.push(`any:${e.name}`));
  bus.emit("server.down", { proxy: "p", server: "s", reason: "L4 timeout" });
  off();
  bus.emit("server.down", { proxy: "p", server: "t", reason: "x" });
  assert.deepEqual(seen, ["p/s@42", "any:server.down", "any:server.down"]);
  assert.deepEqual(errors, ["server.down", "server.down"]);
});

test("the fake clock fires due timers in order and only when advanced", () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("b@" + clock.now()), 20);
  clock.setTimeout(() => {
    fired.push("a@" + clock.now());
    clock.setTimeout(() => fired.push("c@" + clock.now()), 5);
  }, 10);
  const t = clock.setTimeout(() => fired.push("never"), 15);
  t.cancel();
  clock.advance(9);
  assert.deepEqual(fired, []);
  clock.advance(20);
  assert.deepEqual(fired, ["a@10", "c@15", "b@20"]);
  assert.equal(clock.now(), 29);
});
