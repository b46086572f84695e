// The contract every balancing algorithm fulfils, run against each implementation.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BALANCERS, createBalancer } from "../../src/proxy/balance/index.ts";
import type { BalanceAlgorithm } from "../../src/proxy/config_types.ts";

interface S {
  name: string;
  weight: number;
  active: number;
}
const mk = (name: string, weight = 1, active = 0): S => ({ name, weight, active });

function seeded(seed = 42): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const variants: { label: string; algorithm: BalanceAlgorithm; hash?: "map" | "consistent" }[] = [
  ...(Object.keys(BALANCERS) as BalanceAlgorithm[]).map((algorithm) => ({ label: algorithm, algorithm })),
  { label: "source consistent", algorithm: "source", hash: "consistent" },
];

for (const v of variants) {
  describe(`balancer contract: ${v.label}`, () => {
    const make = () => createBalancer<S>(v.algorithm, { hash: v.hash, random: seeded() });

    it("reports its algorithm name", () => {
      assert.equal(make().algorithm, v.algorithm);
    });

    it("returns undefined with no servers", () => {
      const b = make();
      assert.equal(b.pick("10.0.0.1"), undefined);
      b.update([]);
      assert.equal(b.pick("10.0.0.1"), undefined);
    });

    it("only returns members of the current set", () => {
      const b = make();
      const a = [mk("a"), mk("b"), mk("c")];
      b.update(a);
      for (let i = 0; i < 50; i++) assert.ok(a.includes(b.pick(`10.0.0.${i}`)!));
      const next = [mk("d"), mk("e")];
      b.update(next);
      for (let i = 0; i < 50; i++) assert.ok(next.includes(b.pick(`10.0.0.${i}`)!));
    });

    it("never returns a skipped server, and undefined when all are skipped", () => {
      const b = make();
      const set = [mk("a"), mk("b"), mk("c")];
      b.update(set);
      for (let i = 0; i < 50; i++) assert.notEqual(b.pick(`10.1.0.${i}`, (s) => s.name === "b")?.name, "b");
      assert.equal(b.pick("10.1.0.1", () => true), undefined);
      for (let i = 0; i < 20; i++) assert.equal(b.pick(`10.2.0.${i}`, (s) => s.name !== "c")?.name, "c");
    });

    it("a single server gets everything", () => {
      const b = make();
      const only = mk("only", 3);
      b.update([only]);
      for (let i = 0; i < 20; i++) assert.equal(b.pick(`192.0.2.${i}`), only);
    });

    it("stays usable across many updates", () => {
      const b = make();
      const all = [mk("a", 2), mk("b", 1), mk("c", 5)];
      for (let round = 0; round < 10; round++) {
        const subset = all.filter((_, i) => (round >> i) & 1 || i === round % 3);
        b.update(subset);
        const got = b.pick(`198.51.100.${round}`);
        assert.ok(got && subset.includes(got));
      }
    });
  });
}
