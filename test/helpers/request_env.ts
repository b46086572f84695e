// A RequestEnv for rule and routing tests: a client at src, the system clock (or a given one).

import type { Clock } from "../../src/core/clock.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { RequestEnv } from "../../src/proxy/http/request_env.ts";

/** An env whose client connected from src to dst:dstPort; `reads` counts reads of the source address. */
export function envFor(src = "1.2.3.4", o: { dstPort?: number; dst?: string; clock?: Clock } = {}): RequestEnv & { reads: number } {
  const env = {
    reads: 0,
    clock: o.clock ?? systemClock,
    client: {
      get srcAddress() {
        env.reads++;
        return src;
      },
      srcPort: 40000,
      dstAddress: o.dst ?? "127.0.0.1",
      dstPort: o.dstPort ?? 80,
      frontend: "test",
    },
  };
  return env;
}
