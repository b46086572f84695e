// Random with the power of two choices: draw two servers by weight, keep the less loaded one.

import type { Balancer, LbServer } from "./balancer.ts";

/** Two weighted draws bound the maximum load far better than one (Mitzenmacher, 2001). */
export function createRandom<S extends LbServer>(random: () => number = Math.random): Balancer<S> {
  let servers: readonly S[] = [];
  const draw = (candidates: readonly S[]): S => {
    const total = candidates.reduce((a, s) => a + s.weight, 0);
    let r = random() * total;
    for (const s of candidates) {
      r -= s.weight;
      if (r < 0) return s;
    }
    return candidates[candidates.length - 1];
  };
  return {
    algorithm: "random",
    update(next) {
      servers = next;
    },
    pick(_clientKey, skip) {
      const candidates = skip ? servers.filter((s) => !skip(s)) : servers;
      if (candidates.length === 0) return undefined;
      const a = draw(candidates);
      const b = draw(candidates);
      return b.active / b.weight < a.active / a.weight ? b : a;
    },
  };
}
