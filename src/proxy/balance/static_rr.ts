// Static weighted round-robin: a precomputed map walked by a cursor, O(1) per pick (haproxy lb_map).

import type { Balancer, LbServer } from "./balancer.ts";

/**
 * The map holds each server `weight` times, interleaved smoothly, and is rebuilt only when the
 * candidate set changes; weight changes on a running server are ignored (hence "static").
 */
export function createStaticRoundRobin<S extends LbServer>(): Balancer<S> {
  let map: S[] = [];
  let cursor = 0;
  const weights = new Map<string, number>();
  return {
    algorithm: "static-rr",
    update(servers) {
      const cur = servers.map(() => 0);
      const w = servers.map((s) => {
        if (!weights.has(s.name)) weights.set(s.name, s.weight);
        return weights.get(s.name) ?? s.weight;
      });
      const total = w.reduce((a, b) => a + b, 0);
      map = [];
      for (let n = 0; n < total; n++) {
        let best = 0;
        for (let i = 0; i < servers.length; i++) {
          cur[i] += w[i];
          if (cur[i] > cur[best]) best = i;
        }
        cur[best] -= total;
        map.push(servers[best]);
      }
      cursor = cursor % Math.max(1, map.length);
    },
    pick(_clientKey, skip) {
      for (let tries = 0; tries < map.length; tries++) {
        const s = map[cursor];
        cursor = (cursor + 1) % map.length;
        if (!skip?.(s)) return s;
      }
      return undefined;
    },
  };
}
