// The contract every subsystem (proxy, vrrp, alerts, notify, admin) fulfils, so main only wires.

import type { Clock } from "./clock.ts";
import type { EventBus } from "./events.ts";
import type { Logger } from "./log.ts";

/**
 * Read-only views that subsystems offer each other. Each subsystem declares its own entry next
 * to its code, by extending this interface:
 *   declare module "../core/subsystem.ts" { interface Services { proxy?: ProxyService } }
 * so the shape of what it offers (status() included) is written once, where it is made.
 */
export interface Services {
  /** The daemon's reload (set by whoever runs the daemon): whether the new config was applied, and why not. */
  reload?: () => Promise<ReloadOutcome>;
  /** Reads and checks the config file as a reload would, without applying it (set by whoever runs the daemon). */
  validate?: () => Promise<ValidateOutcome>;
}

/** What checking the config file found: errors (one per line of text), and the resolved config when valid. */
export interface ValidateOutcome {
  valid: boolean;
  errors: string[];
  /** The resolved config (the daemon's type), present when valid. */
  config?: unknown;
}

/** What a reload did: applied everywhere, or not at all, with the reasons (one per line of text). */
export interface ReloadOutcome {
  applied: boolean;
  errors: string[];
}

/** What a subsystem gets: the resolved config (typed by the subsystem: the part it reads), the bus, the clock. */
export interface SubsystemContext<C = unknown> {
  config: C;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  services: Services;
}

export interface Subsystem<C = unknown> {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Applies a new, already validated config. Keeps what did not change. Throws when it cannot,
   * having kept the running config (the daemon then returns the others to it).
   */
  reload(config: C): Promise<void>;
  /** Stops within the grace period; reason is logged and sent in events. */
  stop(reason: string): Promise<void>;
}
