// Algorithm-specific behaviour: weights, smoothness, least load, hashing stability.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createBalancer } from "../../src/proxy/balance/index.ts";

interface S {
  name: string;
  weight: number;
  active: number;
}
const mk = (name: string, weight = 1, active = 0): S => ({ name, weight, active });

function counts(picks: (S | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of picks) out[p!.name] = (out[p!.name] ?? 0) + 1;
  return out;
}

describe("roundrobin", () => {
  it("is smooth: 5,1,1 gives a a b a c a a", () => {
    const b = createBalancer<S>("roundrobin");
    b.update([mk("a", 5), mk("b"), mk("c")]);
    const seq = Array.from({ length: 7 }, () => b.pick("x")!.name).join("");
    assert.equal(seq, "aabacaa");
  });
  it("applies a weight change at the next pick", () => {
    const b = createBalancer<S>("roundrobin");
    const a = mk("a", 1);
    const c = mk("c", 1);
    b.update([a, c]);
    assert.deepEqual(counts(Array.from({ length: 10 }, () => b.pick("x"))), { a: 5, c: 5 });
    a.weight = 4;
    b.update([a, c]);
    assert.deepEqual(counts(Array.from({ length: 50 }, () => b.pick("x"))), { a: 40, c: 10 });
  });
});

describe("static-rr", () => {
  it("spreads by weight", () => {
    const b = createBalancer<S>("static-rr");
    b.update([mk("a", 3), mk("b", 1)]);
    assert.deepEqual(counts(Array.from({ length: 40 }, () => b.pick("x"))), { a: 30, b: 10 });
  });
});

describe("leastconn", () => {
  it("picks the lowest active/weight and rotates ties", () => {
    const b = createBalancer<S>("leastconn");
    const a = mk("a", 1, 5);
    const c = mk("c", 1, 2);
    const d = mk("d", 4, 8); // (8+1)/4 = 2.25 < (2+1)/1
    b.update([a, c, d]);
    assert.equal(b.pick("x"), d);
    d.active = 20;
    assert.equal(b.pick("x"), c);
    const e = mk("e");
    const f = mk("f");
    b.update([e, f]);
    assert.deepEqual(counts(Array.from({ length: 10 }, () => b.pick("x"))), { e: 5, f: 5 });
  });
});

describe("random (power of two choices)", () => {
  it("prefers the less loaded of two draws", () => {
    let i = 0;
    const draws = [0.1, 0.9]; // first draw a, second draw b
    const b = createBalancer<S>("random", { random: () => draws[i++ % 2] });
    const a = mk("a", 1, 10);
    const c = mk("b", 1, 1);
    b.update([a, c]);
    assert.equal(b.pick("x"), c);
  });
});

describe("first", () => {
  it("fills in config order", () => {
    const b = createBalancer<S>("first");
    const a = mk("a");
    const c = mk("b");
    b.update([a, c]);
    assert.equal(b.pick("x"), a);
    assert.equal(b.pick("x", (s) => s === a), c);
  });
});

describe("source", () => {
  const ips = Array.from({ length: 400 }, (_, i) => `10.${i >> 8}.${i & 255}.7`);
  for (const hash of ["map", "consistent"] as const) {
    it(`${hash}: the same client always lands on the same server, spread roughly by weight`, () => {
      const b = createBalancer<S>("source", { hash });
      b.update([mk("a", 1), mk("b", 1), mk("c", 2)]);
      const first = ips.map((ip) => b.pick(ip)!.name);
      assert.deepEqual(ips.map((ip) => b.pick(ip)!.name), first);
      const c = counts(first.map((name) => mk(name)));
      assert.ok(c.c > c.a && c.c > c.b, JSON.stringify(c));
      assert.ok(c.a > 50 && c.b > 50, JSON.stringify(c));
    });
  }
  it("consistent: a server going down moves only its own clients", () => {
    const servers = [mk("a"), mk("b"), mk("c"), mk("d")];
    const b = createBalancer<S>("source", { hash: "consistent" });
    b.update(servers);
    const before = ips.map((ip) => b.pick(ip)!.name);
    b.update(servers.filter((s) => s.name !== "b"));
    const after = ips.map((ip) => b.pick(ip)!.name);
    let moved = 0;
    for (let i = 0; i < ips.length; i++) {
      if (before[i] !== "b") assert.equal(after[i], before[i], `client ${ips[i]} moved`);
      else moved++;
    }
    assert.ok(moved > 40, `b had ${moved} clients`);
  });
});
