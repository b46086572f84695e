// The algorithm table: config name → factory.

import type { BalanceAlgorithm } from "../config_types.ts";
import type { Balancer, BalancerOptions, LbServer } from "./balancer.ts";
import { createFirst } from "./first.ts";
import { createLeastConn } from "./leastconn.ts";
import { createRandom } from "./random.ts";
import { createRoundRobin } from "./roundrobin.ts";
import { createSource } from "./source.ts";
import { createStaticRoundRobin } from "./static_rr.ts";

export type { Balancer, BalancerOptions, LbServer } from "./balancer.ts";

/** Every algorithm by its config name. */
export const BALANCERS: Record<BalanceAlgorithm, <S extends LbServer>(o: BalancerOptions) => Balancer<S>> = {
  roundrobin: () => createRoundRobin(),
  "static-rr": () => createStaticRoundRobin(),
  leastconn: () => createLeastConn(),
  source: (o) => createSource(o.hash ?? "map"),
  random: (o) => createRandom(o.random),
  first: () => createFirst(),
};

/** Creates the balancer for an algorithm name. */
export function createBalancer<S extends LbServer>(algorithm: BalanceAlgorithm, options: BalancerOptions = {}): Balancer<S> {
  return BALANCERS[algorithm]<S>(options);
}
