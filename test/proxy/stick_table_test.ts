// Stick table: LRU bound, expiry on a fake clock, refresh on touch, reload import.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { StickTable } from "../../src/proxy/stick_table.ts";
import { FreqCounter } from "../../src/proxy/stick_counters.ts";

describe("StickTable", () => {
  it("stores, looks up and updates", () => {
    const t = new StickTable({ size: 10, expire: 1000, clock: new FakeClock() });
    assert.equal(t.lookup("10.0.0.1"), undefined);
    t.store("10.0.0.1", "CAS0");
    assert.equal(t.lookup("10.0.0.1"), "CAS0");
    t.store("10.0.0.1", "CAS1");
    assert.equal(t.lookup("10.0.0.1"), "CAS1");
    assert.equal(t.length, 1);
  });

  it("evicts the least recently used entry at size", () => {
    const t = new StickTable({ size: 3, expire: 60_000, clock: new FakeClock() });
    t.store("a", "s1");
    t.store("b", "s1");
    t.store("c", "s1");
    t.lookup("a"); // a is now the most recent
    t.store("d", "s2");
    assert.equal(t.length, 3);
    assert.equal(t.lookup("b"), undefined);
    assert.equal(t.lookup("a"), "s1");
    assert.equal(t.lookup("d"), "s2");
  });

  it("expires idle entries; a lookup refreshes the expiry", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 100, expire: 1000, clock });
    t.store("a", "s1");
    t.store("b", "s1");
    clock.advance(600);
    assert.equal(t.lookup("a"), "s1");
    clock.advance(600);
    assert.equal(t.lookup("b"), undefined);
    assert.equal(t.lookup("a"), "s1");
    clock.advance(1000);
    assert.equal(t.lookup("a"), undefined);
  });

  it("purges expired entries on insert so memory stays bounded by live entries", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 1000, expire: 10, clock });
    for (let i = 0; i < 100; i++) t.store(`k${i}`, "s");
    clock.advance(20);
    for (let i = 0; i < 30; i++) t.store(`n${i}`, "s");
    assert.ok(t.length <= 100, `length ${t.length}`);
    assert.equal(t.entries().length, 30);
  });

  it("stays O(1): 200k inserts into a 10k table are quick", () => {
    const t = new StickTable({ size: 10_000, expire: 60_000, clock: new FakeClock() });
    const start = performance.now();
    for (let i = 0; i < 200_000; i++) {
      t.store(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, "s");
      t.lookup(`10.0.0.${i & 255}`);
    }
    assert.equal(t.length, 10_000);
    assert.ok(performance.now() - start < 1500);
  });

  it("exports and imports entries, dropping a removed server", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 10, expire: 1000, clock });
    t.store("a", "s1");
    t.store("b", "s2");
    t.store("c", "s1");
    const u = new StickTable({ size: 10, expire: 1000, clock });
    u.import(t.entries());
    assert.equal(u.deleteServer("s1"), 2);
    assert.deepEqual(u.entries().map((e) => e.key), ["b"]);
  });

  it("rejects a size below 1", () => {
    assert.throws(() => new StickTable({ size: 0, expire: 1, clock: new FakeClock() }), /at least 1/);
  });

  it("store says whether the entry is new or moved; announce tells changes at once and refreshes at most every announceEvery", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 10, expire: 40_000, clock });
    assert.equal(t.announceEvery, 10_000);
    assert.equal(t.store("a", "s1"), true);
    assert.equal(t.announce("a", true), true);
    assert.equal(t.store("a", "s1"), false);
    assert.equal(t.announce("a", false), false, "a refresh right after the change is not told");
    clock.advance(10_000);
    t.store("a", "s1");
    assert.equal(t.announce("a", false), true, "a refresh after announceEvery is told");
    assert.equal(t.store("a", "s2"), true, "another server is a change");
    clock.advance(40_001);
    assert.equal(t.store("a", "s2"), true, "an expired entry stored again is new");
  });

  it("merge keeps the entry touched last, and peek and keys read without refreshing", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 10, expire: 1000, clock });
    t.store("a", "s1");
    assert.equal(t.merge("a", "s2", 500), false, "ours expires later: kept");
    assert.equal(t.merge("a", "s2", 2000), true, "theirs was touched later: taken");
    assert.deepEqual(t.peek("a"), { key: "a", server: "s2", expiresAt: 2000 });
    assert.equal(t.merge("b", "s1", 800), true);
    assert.deepEqual(t.keys(), ["a", "b"]);
    assert.equal(t.announce("b", false), false, "an entry from the peer is not announced back on its first refresh");
    clock.advance(900);
    assert.equal(t.peek("b"), undefined, "peek sees expiry");
    assert.equal(t.peek("a")?.expiresAt, 2000, "peek does not refresh");
  });
});

describe("stick counters", () => {
  const spec = { httpReqRate: 10_000, connRate: 10_000, httpErrRate: 10_000, connCur: true };

  it("a rate is this period's count plus the previous period's weighted by what is left of it (haproxy freq_ctr)", () => {
    const clock = new FakeClock();
    const c = new FreqCounter(10_000);
    for (let i = 0; i < 10; i++) c.add(clock.now());
    assert.equal(c.read(clock.now()), 10);
    clock.advance(10_000); // a new period: the 10 weigh fully, then less and less
    assert.equal(c.read(clock.now()), 10);
    clock.advance(5_000);
    assert.equal(c.read(clock.now()), 5);
    c.add(clock.now());
    assert.equal(c.read(clock.now()), 6);
    clock.advance(25_000);
    assert.equal(c.read(clock.now()), 0);
  });

  it("entries keep counters; one a connection still tracks does not expire", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 10, expire: 1000, clock, counters: spec });
    const a = t.track("10.0.0.1");
    a.connCur++;
    a.httpReq?.add(clock.now());
    clock.advance(5000);
    assert.equal(t.track("10.0.0.1"), a, "kept while conn_cur > 0");
    a.connCur--;
    clock.advance(5000);
    const again = t.track("10.0.0.1");
    assert.notEqual(again, a, "expired once idle");
    assert.equal(again.read("http_req_rate", clock.now()), 0);
  });

  it("a server entry and counters can share a key; reload carries both", () => {
    const clock = new FakeClock();
    const t = new StickTable({ size: 10, expire: 60_000, clock, counters: spec });
    t.store("10.0.0.1", "s1");
    const c = t.track("10.0.0.1");
    c.httpErr?.add(clock.now());
    assert.equal(t.lookup("10.0.0.1"), "s1");
    const t2 = new StickTable({ size: 10, expire: 60_000, clock, counters: spec });
    t2.import(t.entries());
    assert.equal(t2.lookup("10.0.0.1"), "s1");
    assert.equal(t2.track("10.0.0.1").read("http_err_rate", clock.now()), 1);
    assert.throws(() => new StickTable({ size: 1, expire: 1, clock }).track("x"), /keeps no counters/);
  });
});
