// Least connections, weighted: the server with the lowest active/weight wins (haproxy lb_fwlc).

import type { Balancer, LbServer } from "./balancer.ts";

/** Ties are broken round-robin so equal servers share new connections evenly. */
export function createLeastConn<S extends LbServer>(): Balancer<S> {
  let servers: readonly S[] = [];
  let offset = 0;
  return {
    algorithm: "leastconn",
    update(next) {
      servers = next;
    },
    pick(_clientKey, skip) {
      const n = servers.length;
      let best: S | undefined;
      let bestLoad = Infinity;
      for (let k = 0; k < n; k++) {
        const s = servers[(offset + k) % n];
        if (skip?.(s)) continue;
        // (active + 1) / weight: the load the server would have after taking this connection.
        const load = (s.active + 1) / s.weight;
        if (load < bestLoad) {
          best = s;
          bestLoad = load;
        }
      }
      offset = n > 0 ? (offset + 1) % n : 0;
      return best;
    },
  };
}
