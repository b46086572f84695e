// What the `vrrp` section resolves to for one role: its instances and sync groups.

import type { Cidr } from "../core/address.ts";
import type { SyncGroupConfig } from "./sync_group.ts";

export type { SyncGroupConfig };

export interface TrackScript {
  name: string;
  command: string;
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
  /** keepalived semantics: 0 = FAULT on failure; >0 added while passing; <0 added while failing. */
  weight: number;
}

/** In-process proxy tracking: every proxy, the ones named, or "bound" (those listening on a VIP of the instance). */
export interface TrackProxy {
  weight: number;
  /**
   * Servers each tracked backend needs up (0: the proxy only has to be alive with its listeners
   * bound), or that number per backend named (the others need 0).
   */
  minServers: number | Record<string, number>;
  proxies?: string[] | "bound";
}

/** One VRRP instance resolved for a role. */
export interface VrrpConfig {
  /** Instance name used in logs, events, the stats page and `vrrp demote NAME`. */
  name: string;
  routerId: string;
  interface: string;
  vrid: number;
  /** The address family of every VIP and of the adverts (RFC 5798 §5.2.9: one family per instance). */
  family: 4 | 6;
  version: 2 | 3;
  advertInterval: number;
  auth?: { type: "pass"; password: string };
  virtualIps: { cidr: Cidr; dev?: string; label?: string }[];
  /** Effective base priority for the running role. */
  priority: number;
  preempt: boolean;
  preemptDelay: number;
  /** keepalived's `state`, kept for compatibility: every instance starts as backup (RFC 5798 §6.4.1). */
  initialState: "master" | "backup";
  unicastSrc?: string;
  unicastPeers: string[];
  track: {
    interfaces: { name: string; weight: number }[];
    proxy?: TrackProxy;
    scripts: TrackScript[];
  };
  notify: { master?: string; backup?: string; fault?: string; stop?: string; timeout: number };
  garp: { count: number; interval: number; repeatDelay: number; repeatCount: number; refresh?: number };
  /** The sync group this instance belongs to, if any. */
  syncGroup?: string;
}

/** The whole section for a role: instances in file order, sync groups. */
export interface VrrpSectionConfig {
  instances: VrrpConfig[];
  syncGroups: SyncGroupConfig[];
}
