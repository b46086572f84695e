// BGP scale-out against BIRD 2 from Debian in the router namespace: three built tandem nodes, ECMP,
// health-gated withdrawal, kill -9, a frozen node, SIGTERM's withdraw-then-drain, rejoining.

import { scenarios } from "./bgp_scenarios.ts";

scenarios("bird");
