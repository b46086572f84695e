// The one interface every load-balancing algorithm implements (haproxy's `struct lb_ops`).

import type { BalanceAlgorithm } from "../config_types.ts";

/** What an algorithm sees of a server: identity, effective weight and live load. */
export interface LbServer {
  /** Stable identity within a backend (the server name); consistent hashing places it by this. */
  readonly name: string;
  /** Effective weight, 1..256. Servers with weight 0 are never handed to a balancer. */
  readonly weight: number;
  /** Connections currently established or being established to this server. */
  readonly active: number;
}

/**
 * A load-balancing algorithm over a changing set of servers.
 * The backend calls update() whenever the usable set or a weight changes, and pick() per
 * connection. pick() never returns a server for which skip() is true (full, or already tried).
 */
export interface Balancer<S extends LbServer = LbServer> {
  readonly algorithm: BalanceAlgorithm;
  /** Replaces the candidate set (servers that are up, enabled and weight > 0), in config order. */
  update(servers: readonly S[]): void;
  /** Picks a server for a client (clientKey: its IP); undefined when every candidate is skipped. */
  pick(clientKey: string, skip?: (s: S) => boolean): S | undefined;
}

/** Options shared by the factories; random is injectable so tests are deterministic. */
export interface BalancerOptions {
  hash?: "map" | "consistent";
  random?: () => number;
}

/** FNV-1a then a murmur3 finaliser: cheap, and spreads similar IPs (10.0.0.1, 10.0.0.2) apart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
