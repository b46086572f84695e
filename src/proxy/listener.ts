// One listening socket (host:port) and how it binds, including VIPs this host does not hold yet.

import { ipFamily } from "../core/address.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { netTransport } from "../runtime/net_transport.ts";
import type { Conn, Listening, Transport } from "../runtime/transport.ts";
import { ProxyError } from "./errors.ts";
import { enableNonlocalBind } from "./nonlocal_bind.ts";

const BIND_ERRNO: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
};

/** "host:port" with brackets for IPv6, the listener's identity across reloads. */
export function listenerKey(host: string, port: number): string {
  return ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Listening sockets per address in one process. libuv accepts one connection per listening socket
 * per loop turn (libuv #3696), so with one socket a burst of N connections waits N turns of a loop
 * that is busy with every established connection (500 at once took over a second). Several
 * SO_REUSEPORT sockets on the same address each accept one per turn; the kernel spreads new
 * connections over them (haproxy accepts up to 64 per turn for the same reason).
 */
export const ACCEPTORS = 16;

/** Acceptor sockets per address when `addresses` are bound: at most ~256 sockets in all (port ranges). */
export function acceptorsFor(addresses: number): number {
  return Math.max(1, Math.min(ACCEPTORS, Math.floor(256 / Math.max(1, addresses))));
}

/**
 * A bound (or waiting-to-bind) TCP listener. Accepted connections are paused and handed to
 * onConnection; who receives them can change on reload without rebinding.
 */
export class Listener {
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** The proxy that owns it (for messages); updated on reload. */
  proxy: string;
  onConnection: (conn: Conn) => void;
  /**
   * Accept connections with a ChunkReader (runtime/chunk_reader.ts) where the transport can: set
   * for tcp-mode routes without accept_proxy, whose sessions read through readerOf(conn).
   */
  readers = false;
  bound = false;
  /** Why it is not bound, while waiting for the address to appear. */
  waiting: string | undefined;
  #listening: Listening | undefined;
  #transport: Transport;
  #clock: Clock;
  #log: Logger;
  #retry: TimerHandle | undefined;
  #closed = false;
  #reusePort: boolean;
  #acceptors: number;

  /** How it accepts (a TLS bind needs node:net's sockets: see the proxy subsystem). */
  get transport(): Transport {
    return this.#transport;
  }

  /** Listening sockets bound for this address (several: see ACCEPTORS). */
  get acceptors(): number {
    return this.#listening?.acceptors ?? 0;
  }

  /**
   * reusePort: bind with SO_REUSEPORT, so proxy worker processes share the address. acceptors:
   * sockets for this address (default ACCEPTORS; see acceptorsFor). transport: default node:net.
   */
  constructor(options: { host: string; port: number; proxy: string; transport?: Transport; clock: Clock; log: Logger; onConnection: (conn: Conn) => void; reusePort?: boolean; acceptors?: number }) {
    this.host = options.host;
    this.port = options.port;
    this.key = listenerKey(options.host, options.port);
    this.proxy = options.proxy;
    this.onConnection = options.onConnection;
    this.#transport = options.transport ?? netTransport;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#reusePort = options.reusePort ?? false;
    this.#acceptors = Math.max(1, options.acceptors ?? ACCEPTORS);
  }

  /**
   * Binds. On EADDRNOTAVAIL it turns on ip_nonlocal_bind (when root) and tries again; if that is
   * not possible it keeps retrying every second until the address arrives and returns with
   * `waiting` set (onWaiting is told). Any other failure throws ProxyError E_BIND.
   */
  async bind(onWaiting?: (reason: string) => void, onBound?: () => void): Promise<void> {
    try {
      await this.#listen();
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EADDRNOTAVAIL") throw this.#bindError(err);
    }
    const family = ipFamily(this.host) === 6 ? 6 : 4;
    if (enableNonlocalBind(family, this.#log)) {
      try {
        await this.#listen();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EADDRNOTAVAIL") throw this.#bindError(err);
      }
    }
    // Bind when the VIP arrives.
    this.waiting = "address not available (yet)";
    this.#log.warn(`Cannot bind "${this.proxy}" on ${this.key}: address not available; retrying every second until it is`);
    onWaiting?.(this.waiting);
    const retry = () => {
      this.#retry = this.#clock.setTimeout(() => {
        if (this.#closed) return;
        this.#listen().then(
          () => {
            this.waiting = undefined;
            this.#log.info(`Bound "${this.proxy}" on ${this.key}`);
            onBound?.();
          },
          () => retry(),
        );
      }, 1000);
    };
    retry();
  }

  /** Stops accepting at once; established connections are not touched. */
  close(): Promise<void> {
    this.#closed = true;
    this.#retry?.cancel();
    if (!this.bound) return Promise.resolve();
    this.bound = false;
    this.#listening?.close();
    this.#listening = undefined;
    return Promise.resolve();
  }

  async #listen(): Promise<void> {
    this.#listening = await this.#transport.listen(
      { host: this.host, port: this.port, backlog: 1024, acceptors: this.#acceptors, reusePort: this.#reusePort },
      {
        connection: (conn) => this.onConnection(conn),
        readers: () => this.readers,
        error: (err) => this.#log.error(`Listener ${this.key} of "${this.proxy}" failed: ${err.message}`),
      },
    );
    this.bound = true;
  }

  #bindError(err: unknown): ProxyError {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    return new ProxyError("E_BIND", `Cannot bind "${this.proxy}" on ${this.key}: ${BIND_ERRNO[code] ?? (err as Error).message}`, { cause: err });
  }
}
