// Source hashing: the client IP picks the server, by a weighted map or a consistent-hash ring.

import { hash32 } from "./balancer.ts";
import type { Balancer, LbServer } from "./balancer.ts";

/** Ring points per unit of weight (haproxy uses a similar constant in lb_chash.c). */
const POINTS_PER_WEIGHT = 40;

/**
 * hash "map": hash(ip) modulo the weighted server list — even spread, but a server going down
 * moves most clients. hash "consistent": each server owns points on a 32-bit ring, placed by
 * its name, so removing a server moves only the clients that were on it.
 * A skipped server (full or already tried) passes the client on to the next one in order.
 */
export function createSource<S extends LbServer>(hash: "map" | "consistent" = "map"): Balancer<S> {
  let map: S[] = [];
  let ringHashes = new Uint32Array(0);
  let ringServers: S[] = [];
  return {
    algorithm: "source",
    update(servers) {
      if (hash === "map") {
        map = [];
        for (const s of servers) for (let i = 0; i < s.weight; i++) map.push(s);
        return;
      }
      const points: { h: number; s: S }[] = [];
      for (const s of servers) {
        for (let i = 0; i < s.weight * POINTS_PER_WEIGHT; i++) points.push({ h: hash32(`${s.name}#${i}`), s });
      }
      points.sort((a, b) => a.h - b.h || (a.s.name < b.s.name ? -1 : 1));
      ringHashes = Uint32Array.from(points, (p) => p.h);
      ringServers = points.map((p) => p.s);
    },
    pick(clientKey, skip) {
      const h = hash32(clientKey);
      if (hash === "map") {
        for (let k = 0; k < map.length; k++) {
          const s = map[(h + k) % map.length];
          if (!skip?.(s)) return s;
        }
        return undefined;
      }
      const n = ringHashes.length;
      if (n === 0) return undefined;
      // First point clockwise from h (binary search), then walk on past skipped servers.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ringHashes[mid] < h) lo = mid + 1;
        else hi = mid;
      }
      const seen = new Set<S>();
      for (let k = 0; k < n; k++) {
        const s = ringServers[(lo + k) % n];
        if (seen.has(s)) continue;
        if (!skip?.(s)) return s;
        seen.add(s);
      }
      return undefined;
    },
  };
}
