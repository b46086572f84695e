// "first": fill servers in config order; the next one gets traffic only when the previous is full.

import type { Balancer, LbServer } from "./balancer.ts";

/** Meant with server maxconn: the backend's skip() marks full servers, so the first free one wins. */
export function createFirst<S extends LbServer>(): Balancer<S> {
  let servers: readonly S[] = [];
  return {
    algorithm: "first",
    update(next) {
      servers = next;
    },
    pick(_clientKey, skip) {
      for (const s of servers) if (!skip?.(s)) return s;
      return undefined;
    },
  };
}
