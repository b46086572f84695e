// Smooth weighted round-robin with dynamic weights (the nginx algorithm; haproxy lb_fwrr's intent).

import type { Balancer, LbServer } from "./balancer.ts";

/**
 * Each pick adds every candidate's weight to its current score, takes the highest and subtracts
 * the total: weights {5,1,1} give a a b a c a a, never a burst. Weight changes apply at the next
 * pick; scores of servers that stay are kept so an update does not reset the rotation.
 */
export function createRoundRobin<S extends LbServer>(): Balancer<S> {
  let servers: readonly S[] = [];
  let current = new Map<S, number>();
  return {
    algorithm: "roundrobin",
    update(next) {
      servers = next;
      const kept = new Map<S, number>();
      for (const s of next) kept.set(s, current.get(s) ?? 0);
      current = kept;
    },
    pick(_clientKey, skip) {
      let best: S | undefined;
      let bestScore = -Infinity;
      let total = 0;
      for (const s of servers) {
        if (skip?.(s)) continue;
        const score = (current.get(s) ?? 0) + s.weight;
        current.set(s, score);
        total += s.weight;
        if (score > bestScore) {
          best = s;
          bestScore = score;
        }
      }
      if (best) current.set(best, bestScore - total);
      return best;
    },
  };
}
