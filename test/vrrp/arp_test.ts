// Tests for gratuitous ARP: frame layout and the burst/repeat/refresh schedule.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { garpPayload, startGarp } from "../../src/vrrp/arp.ts";

test("GARP payload: ARP request with sender IP = target IP = VIP", () => {
  const p = garpPayload(Uint8Array.from([2, 0, 0, 0, 0, 1]), "192.0.2.100");
  assert.equal(Buffer.from(p).toString("hex"), "0001080006040001" + "020000000001" + "c0000264" + "ffffffffffff" + "c0000264");
});

test("schedule: burst of count, second burst after delay, periodic refresh, stop cancels", () => {
  const clock = new FakeClock();
  const at: number[] = [];
  const g = startGarp(clock, { send: () => void at.push(clock.now()), close() {} }, [{ dev: "eth0", address: "192.0.2.100" }],
    { count: 3, interval: 100, repeatDelay: 5000, repeatCount: 2, refresh: 60_000 }, () => {});
  clock.advance(70_000);
  assert.deepEqual(at, [0, 100, 200, 5200, 5300, 65300]);
  g.stop();
  clock.advance(120_000);
  assert.equal(at.length, 6);
});

test("send errors are reported, not thrown", () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  startGarp(clock, { send: () => { throw new Error("boom"); }, close() {} }, [{ dev: "eth0", address: "192.0.2.100" }],
    { count: 2, interval: 10, repeatDelay: 0, repeatCount: 0 }, (e) => errors.push(e));
  clock.advance(100);
  assert.equal(errors.length, 2);
});
