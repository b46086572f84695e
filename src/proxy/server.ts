// One backend server at run time: config, health, admin state, live connections and its queue.

import type { ServerConfig } from "./config_types.ts";
import type { LbServer } from "./balance/balancer.ts";
import { CountedSockets } from "./counted_sockets.ts";
import type { HealthChecker } from "./health_check.ts";
import type { HealthState } from "./health_state.ts";
import { WaitQueue } from "./wait_queue.ts";

/** What the stats page, alerts and VRRP tracking see. */
export type ServerState = "up" | "down" | "maint" | "drain";

/** A request for a connection slot waiting in a queue (server's own or the backend's). */
export interface SlotWaiter {
  grant(server: Server): void;
  fail(err: Error): void;
}

/** Mutable run-time server; the backend owns it and keeps it across reloads when it still exists. */
export class Server implements LbServer {
  readonly name: string;
  config: ServerConfig;
  /** Set at run time (admin socket) and carried over reloads; undefined = the config's value. */
  adminWeight: number | undefined;
  adminMaint: boolean | undefined;
  /** Health before checks (no check: always up). */
  health: HealthState;
  checker: HealthChecker | undefined;
  /** Connections holding a slot on this server (connecting or established). */
  active = 0;
  /** Connections ever served. */
  total = 0;
  /** Stats (admin): highest `active` seen. */
  maxActive = 0;
  /** Stats: failed connection attempts (haproxy econ), status changes (wall ms of the last), transitions to down. */
  connectErrors = 0;
  lastChange = 0;
  downs = 0;
  /**
   * Server-side sockets, so on_marked_down: shutdown_sessions can close them, and the bytes to
   * and from the server (a finished connection leaves through sockets.forget).
   */
  readonly sockets = new CountedSockets();
  readonly queue = new WaitQueue<SlotWaiter>();

  constructor(config: ServerConfig, health: HealthState) {
    this.name = config.name;
    this.config = config;
    this.health = health;
  }

  /** Effective weight: admin override, else config. */
  get weight(): number {
    return this.adminWeight ?? this.config.weight;
  }

  get maint(): boolean {
    return this.adminMaint ?? this.config.disabled;
  }

  get up(): boolean {
    return this.health.up;
  }

  get state(): ServerState {
    if (this.maint) return "maint";
    if (!this.health.up) return "down";
    return this.weight === 0 ? "drain" : "up";
  }

  /** May receive new balanced traffic (sticky clients may still reach a "drain" server). */
  get usable(): boolean {
    return !this.maint && this.health.up && this.weight > 0;
  }

  /** No free slot under the server's maxconn. */
  get full(): boolean {
    return this.config.maxconn !== undefined && this.config.maxconn > 0 && this.active >= this.config.maxconn;
  }

  /** "address:port" or "address:<client port>" for messages. */
  get label(): string {
    return `${this.config.address}:${this.config.port ?? "<client port>"}`;
  }
}
