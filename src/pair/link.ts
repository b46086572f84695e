// The pair link's transport side: the master dials the backup's address, the backup listens on
// its own; one authenticated connection at a time, and a new try after a growing delay when it
// fails or ends. A peer that is refused (wrong key, same role) is logged, never fatal.

import type { Clock, TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Conn, Listening, Transport } from "../runtime/transport.ts";
import type { PairLinkConfig } from "./config.ts";
import { PairConnection } from "./connection.ts";
import { freshSecrets, type RefusalCode } from "./handshake.ts";
import type { Decoded } from "./messages.ts";

/** First retry delay and the longest one (ms). */
const BACKOFF_FIRST = 200;
const BACKOFF_MAX = 5_000;
/** Handshakes a listening host runs at once; more connections are closed at once (a flood costs nothing). */
const MAX_PENDING = 4;
/** A refused peer is logged at most this often (a wrong key retries every few seconds). */
const REFUSAL_LOG_EVERY = 60_000;

/** The delay before try number `attempt` (0 = first retry): doubling from 200 ms to 5 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.4 * random));
}

export type LinkState = "stopped" | "connecting" | "waiting" | "up";

export interface LinkEvents {
  up(c: PairConnection): void;
  down(c: PairConnection, reason: string): void;
  message(c: PairConnection, m: Decoded): void;
  refused(address: string, reason: string, code: RefusalCode, byPeer: boolean): void;
}

export interface LinkDeps {
  transport: Transport;
  clock: Clock;
  log: Logger;
  /** The stretched pair key (handshake.ts stretchKey). */
  psk: Buffer;
}

/** Counters for status and metrics. */
export interface LinkStats {
  connects: number;
  refusals: number;
  lastError?: string;
  /** Monotonic ms the current connection came up. */
  upSince?: number;
}

export class PairLink {
  readonly config: PairLinkConfig;
  readonly stats: LinkStats = { connects: 0, refusals: 0 };
  readonly #deps: LinkDeps;
  readonly #events: LinkEvents;
  #current: PairConnection | undefined;
  readonly #pending = new Set<PairConnection>();
  #listening: Listening | undefined;
  #timer: TimerHandle | undefined;
  #attempt = 0;
  #stopped = true;
  #dialing: Conn | undefined;
  #lastRefusalLog = new Map<string, number>();

  constructor(config: PairLinkConfig, deps: LinkDeps, events: LinkEvents) {
    this.config = config;
    this.#deps = deps;
    this.#events = events;
  }

  /** Dials (master) or listens (backup). A listen failure is logged and retried, not thrown. */
  start(): void {
    this.#stopped = false;
    if (this.#dials) this.#dial();
    else void this.#listen();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#listening?.close();
    this.#listening = undefined;
    this.#dialing?.destroy();
    for (const p of this.#pending) p.close("stopping");
    this.#current?.close("stopping");
  }

  get state(): LinkState {
    if (this.#stopped) return "stopped";
    if (this.#current?.established) return "up";
    return this.#dials ? "connecting" : "waiting";
  }

  /** The established connection, if any. */
  get connection(): PairConnection | undefined {
    return this.#current?.established ? this.#current : undefined;
  }

  /** The master's host dials, the backup's listens. */
  get #dials(): boolean {
    return this.config.self.role === "master";
  }

  get #peerName(): string {
    return `${this.config.peer.role} ${this.config.peer.address}:${this.config.port}`;
  }

  #retry(fn: () => void): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt++);
    this.#timer?.cancel();
    this.#timer = this.#deps.clock.setTimeout(fn, delay);
  }

  async #listen(): Promise<void> {
    const { address } = this.config.self;
    try {
      this.#listening = await this.#deps.transport.listen({ host: address, port: this.config.port, backlog: 16, acceptors: 1, reusePort: false }, {
        connection: (conn) => this.#accepted(conn),
        readers: () => false,
        error: (err) => this.#deps.log.error(`Pair link listener ${address}:${this.config.port}: ${describeError(err)}`),
      });
      if (this.#stopped) return this.#listening.close();
      this.#attempt = 0;
      this.#deps.log.info(`Pair link waiting for the ${this.config.peer.role} on ${address}:${this.config.port}`);
    } catch (err) {
      const why = `Cannot listen for the pair link on ${address}:${this.config.port}: ${describeError(err)}`;
      if (this.stats.lastError !== why) this.#deps.log.error(`${why}; trying again`);
      this.stats.lastError = why;
      this.#retry(() => void this.#listen());
    }
  }

  #accepted(conn: Conn): void {
    conn.on("error", () => {});
    if (this.#stopped || this.#pending.size >= MAX_PENDING) {
      conn.destroy();
      return;
    }
    this.#run(conn, "server");
  }

  #dial(): void {
    if (this.#stopped) return;
    const { address } = this.config.peer;
    this.#dialing = this.#deps.transport.dial({ host: address, port: this.config.port, timeout: 3_000 }, {
      dialed: (err, conn) => {
        this.#dialing = undefined;
        if (this.#stopped) return void conn.destroy();
        if (err) {
          const hint = err.code === "ECONNREFUSED" ? " (is tandem running there with --role backup?)" : "";
          const why = `cannot reach the ${this.#peerName}: ${err.code ?? describeError(err)}${hint}`;
          if (this.stats.lastError !== why) this.#deps.log.warn(`Pair link: ${why}; trying again`);
          this.stats.lastError = why;
          return this.#retry(() => this.#dial());
        }
        this.#run(conn, "client");
      },
    });
    this.#dialing.on("error", () => {});
  }

  #run(conn: Conn, side: "client" | "server"): void {
    const c = new PairConnection(conn, { side, role: this.config.self.role, peerRole: this.config.peer.role, psk: this.#deps.psk, ...freshSecrets() }, { clock: this.#deps.clock, timeout: this.config.timeout }, {
      established: (x) => this.#established(x),
      message: (x, m) => {
        if (x === this.#current) this.#events.message(x, m);
      },
      closed: (x, reason, refusal) => this.#closed(x, reason, refusal),
    });
    this.#pending.add(c);
    c.start();
  }

  #established(c: PairConnection): void {
    this.#pending.delete(c);
    const previous = this.#current;
    this.#current = c;
    if (previous && !previous.closed) {
      this.#deps.log.info(`Pair link: a new connection from ${c.remote} replaces the previous one`);
      previous.close("replaced by a new connection");
    }
    this.#attempt = 0;
    this.stats.connects++;
    this.stats.upSince = this.#deps.clock.now();
    this.stats.lastError = undefined;
    this.#events.up(c);
  }

  /** Rate limit of what a peer (or a stranger) makes us log: once a minute per address and kind. */
  #dueLog(key: string): boolean {
    const now = this.#deps.clock.now();
    const last = this.#lastRefusalLog.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_EVERY) return false;
    if (this.#lastRefusalLog.size > 1000) this.#lastRefusalLog.clear();
    this.#lastRefusalLog.set(key, now);
    return true;
  }

  #closed(c: PairConnection, reason: string, refusal?: { code: RefusalCode; byPeer: boolean }): void {
    this.#pending.delete(c);
    if (refusal) {
      this.stats.refusals++;
      this.stats.lastError = reason;
      if (this.#dueLog(`${c.remote}|${refusal.code}`)) this.#events.refused(c.remote, reason, refusal.code, refusal.byPeer);
    }
    else if (c !== this.#current && c.establishedAt === 0 && this.#dueLog(`${c.remote}|failed`)) this.#deps.log.warn(`Pair link: handshake with ${c.remote} failed: ${reason}`);
    if (c === this.#current) {
      this.#current = undefined;
      this.stats.upSince = undefined;
      this.stats.lastError = reason;
      this.#events.down(c, reason);
    }
    // The dialing side tries again; the listening side keeps waiting.
    if (this.#dials && !this.#current && this.#pending.size === 0 && !this.#stopped) this.#retry(() => this.#dial());
  }
}
