// The contract every subsystem (proxy, vrrp, alerts, notify, admin) fulfils, so main only wires.

import type { Clock } from "./clock.ts";
import type { EventBus } from "./events.ts";
import type { Logger } from "./log.ts";
import type { TandemConfig } from "../config/types.ts";

/** Read-only views that subsystems offer each other (filled in by whoever owns the data). */
export interface Services {
  /** Proxy: current server states, for alerts' server_state checks, VRRP tracking and stats. */
  proxy?: {
    status(): unknown;
    serverState(proxy: string, server: string): "up" | "down" | "maint" | "drain" | undefined;
    /** True when the proxy is fit to carry traffic (listeners bound, enough servers up). */
    healthy(proxies?: string[], minServers?: number): { healthy: boolean; reason: string };
    /**
     * Admin (runtime API, stats page): manual state and/or weight of one server, carried over
     * reloads. "ready" clears maint and drain. Throws TandemError E_NO_SUCH_SERVER / E_RANGE.
     */
    setServer?(proxy: string, server: string, change: { state?: "ready" | "drain" | "maint"; weight?: number }): void;
    /** Admin: the stick table of a backend (undefined: no such backend or no table). */
    stickTable?(proxy: string): { key: string; server: string; expiresIn: number }[] | undefined;
    /** Admin: empties a backend's stick table; returns the entries removed (undefined: no table). */
    clearStickTable?(proxy: string): number | undefined;
  };
  vrrp?: { status(): unknown; demote(): Promise<void> };
  notify?: { status(): unknown; send(notifier: string, message: OutgoingMessage): Promise<string> };
  alerts?: { status(): unknown };
  /** The daemon's reload (set by whoever runs the daemon): whether the new config was applied, and why not. */
  reload?: () => Promise<ReloadOutcome>;
}

/** What a reload did: applied everywhere, or not at all, with the reasons (one per line of text). */
export interface ReloadOutcome {
  applied: boolean;
  errors: string[];
}

/** A message handed to the notifier (spooled before any delivery attempt). */
export interface OutgoingMessage {
  subject: string;
  text: string;
  /** Event or rule that produced it. */
  source: string;
}

export interface SubsystemContext {
  config: TandemConfig;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  services: Services;
}

export interface Subsystem {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Applies a new, already validated config. Keeps what did not change. Throws when it cannot,
   * having kept the running config (the daemon then returns the others to it).
   */
  reload(config: TandemConfig): Promise<void>;
  /** Stops within the grace period; reason is logged and sent in events. */
  stop(reason: string): Promise<void>;
}
