// V8 settings for a long-running proxy process (Node; elsewhere nothing to do).

import { setFlagsFromString } from "node:v8";

/**
 * Turns off V8's allocation-site pretenuring. Under connection churn, after a full GC has moved
 * the connections in flight to the old generation, objects allocated for them survive young GCs
 * because their (dead) owners are old; V8 then takes those allocation sites for long-lived and
 * allocates in the old generation, which keeps the next connections' young objects alive in turn.
 * Measured: with pretenuring on, a full GC under `Connection: close` load left the process in a
 * state where each scavenge promoted ~8–10 MB and paused 7–10 ms, for good; with it off, that state
 * ends after a few scavenges (docs/performance.md, test/integration/gc_churn_test.ts). Call once at
 * start, before the proxy runs. Never throws.
 */
export function tuneGc(): void {
  if ("Deno" in globalThis) return;
  try {
    setFlagsFromString("--no-allocation-site-pretenuring");
  } catch {
    // A runtime without V8 flags: nothing to tune.
  }
}
