// What services.pair.status() reports: the link, the peer's last state, the configurations'
// comparison, replication and split brains. The stats page, `;json`, /metrics and `show peer` read it.

import type { Role } from "../config/types.ts";
import type { SenderDecision } from "./alert_sender.ts";
import type { LinkState } from "./link.ts";
import type { PeerState } from "./messages.ts";
import type { ReplicationStats } from "./replicator.ts";

export interface PairStatus {
  /** A link is configured (pair.key and pair.roles). */
  configured: boolean;
  self: { hostname: string; role: Role; address?: string; port?: number };
  link: {
    state: LinkState | "off";
    /** Wall ms the current connection came up. */
    upSince?: number;
    connects: number;
    refusals: number;
    lastError?: string;
  };
  peer?: {
    address: string;
    role: Role;
    /** Wall ms of the last state heard from the peer. */
    lastSeen?: number;
    /** Its last state (hostname, VRRP, proxy summary, health), as it sent it. */
    state?: PeerState;
  };
  config: {
    hash: string;
    /** undefined until the peer's hash is known. */
    same?: boolean;
    theirs?: string;
    keys: string[];
    more: number;
  };
  replication: ReplicationStats;
  splitBrain: { instance: string; vrid: number; source: "link" | "adverts"; since: number }[];
  /** Whether this host sends alerts about the pair now, and why. */
  alerts: SenderDecision;
}
