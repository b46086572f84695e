// V8 settings for a long-running proxy process (Node; elsewhere nothing to do).

import { setFlagsFromString } from "node:v8";

/**
 * Turns off V8's allocation-site pretenuring. Under connection churn, once a full GC has moved
 * the connections in flight to the old generation, the objects allocated for them afterwards
 * survive young-generation GCs (their dead owners are old), V8 sees those allocation sites
 * survive and allocates their objects in the old generation from then on, which keeps every
 * later connection's young objects alive in turn: the process stays in a state where each
 * scavenge promotes ~8–10 MB and pauses 7–10 ms, and the tail latency of `Connection: close`
 * traffic is those pauses (docs/performance.md). Without pretenuring the state ends after a few
 * scavenges. Call once at start, before the proxy runs. Never throws.
 */
export function tuneGc(): void {
  if ("Deno" in globalThis) return;
  try {
    setFlagsFromString("--no-allocation-site-pretenuring");
  } catch {
    // A runtime without V8 flags: nothing to tune.
  }
}
