// One listening socket (host:port) and how it binds, including VIPs this host does not hold yet.

import { createServer, isIP, Socket as NetSocket } from "node:net";
import type { Server as NetServer, Socket } from "node:net";
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { attachReader, ChunkReader } from "./chunk_reader.ts";
import { ProxyError } from "./errors.ts";
import { enableNonlocalBind } from "./nonlocal_bind.ts";

const BIND_ERRNO: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
};

/** "host:port" with brackets for IPv6, the listener's identity across reloads. */
export function listenerKey(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
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
 * A bound (or waiting-to-bind) TCP listener. Accepted sockets are paused (pauseOnConnect) and
 * handed to onConnection; who receives them can change on reload without rebinding.
 */
export class Listener {
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** The proxy that owns it (for messages); updated on reload. */
  proxy: string;
  onConnection: (socket: Socket) => void;
  /**
   * Accept connections with a ChunkReader (chunk_reader.ts) when the runtime allows it: set for
   * tcp-mode routes without accept_proxy, whose sessions read through readerOf(socket).
   */
  readers = false;
  bound = false;
  /** Why it is not bound, while waiting for the address to appear. */
  waiting: string | undefined;
  #servers: NetServer[] = [];
  #clock: Clock;
  #log: Logger;
  #retry: TimerHandle | undefined;
  #closed = false;
  #reusePort: boolean;
  #acceptors: number;

  /** Listening sockets bound for this address (several on Node: see ACCEPTORS). */
  get acceptors(): number {
    return this.#servers.length;
  }

  /**
   * reusePort: bind with SO_REUSEPORT, so proxy worker processes share the address. acceptors:
   * sockets for this address (default ACCEPTORS; see acceptorsFor).
   */
  constructor(options: { host: string; port: number; proxy: string; clock: Clock; log: Logger; onConnection: (socket: Socket) => void; reusePort?: boolean; acceptors?: number }) {
    this.host = options.host;
    this.port = options.port;
    this.key = listenerKey(options.host, options.port);
    this.proxy = options.proxy;
    this.onConnection = options.onConnection;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#reusePort = options.reusePort ?? false;
    this.#acceptors = "deno" in process.versions ? 1 : Math.max(1, options.acceptors ?? ACCEPTORS);
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
    const family = isIP(this.host) === 6 ? 6 : 4;
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

  /**
   * Stops accepting at once; established connections are not touched. (net.Server's close
   * callback waits for every accepted connection to end, so it is not awaited here.)
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#retry?.cancel();
    if (!this.bound) return Promise.resolve();
    this.bound = false;
    for (const server of this.#servers.splice(0)) server.close();
    return Promise.resolve();
  }

  /**
   * Binds every acceptor socket. In one process (no `reusePort` option) a plain socket is bound
   * first and closed again: it fails as before when someone else holds the address, where
   * SO_REUSEPORT sockets of the same user would share it silently.
   */
  async #listen(): Promise<void> {
    const many = this.#acceptors > 1;
    if (many && !this.#reusePort) {
      const probe = this.#createServer();
      await this.#listenOne(probe, this.port, false);
      await new Promise((resolve) => probe.close(resolve));
    }
    const servers: NetServer[] = [];
    try {
      let port = this.port;
      for (let i = 0; i < this.#acceptors; i++) {
        const server = this.#createServer();
        servers.push(server);
        await this.#listenOne(server, port, many || this.#reusePort);
        port = (server.address() as { port: number }).port;
      }
    } catch (err) {
      for (const server of servers) server.close();
      throw err;
    }
    for (const server of servers) {
      server.on("error", (err) => this.#log.error(`Listener ${this.key} of "${this.proxy}" failed: ${err.message}`));
      this.#hookAccept(server);
    }
    this.#servers = servers;
    this.bound = true;
  }

  #createServer(): NetServer {
    return createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.onConnection(socket));
  }

  #listenOne(server: NetServer, port: number, reusePort: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.host, port, backlog: 1024, ...(reusePort ? { reusePort: true } : {}) }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  /**
   * net.Server builds every accepted socket itself, with no way to pass `onread`. Where its
   * listening handle exposes the accept callback (Node), connections for `readers` routes are
   * built here instead, as net.Server would (paused, noDelay, counted), plus the reader.
   * Elsewhere (or with readers off) net.Server's own path runs.
   */
  #hookAccept(netServer: NetServer): void {
    const server = netServer as NetServer & { _handle?: AcceptHandle | null; _connections: number };
    const handle = server._handle;
    if (!handle || typeof handle.onconnection !== "function" || "deno" in process.versions) return;
    const original = handle.onconnection;
    handle.onconnection = (err, clientHandle) => {
      if (err || !this.readers || !clientHandle) return original.call(handle, err, clientHandle);
      const reader = new ChunkReader();
      const options = { handle: clientHandle, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true, onread: reader.onread };
      const socket = new NetSocket(options as unknown as ConstructorParameters<typeof NetSocket>[0]) as Socket & { server?: NetServer; _server?: NetServer };
      clientHandle.setNoDelay?.(true);
      server._connections++;
      socket.server = server;
      socket._server = server;
      attachReader(socket, reader);
      this.onConnection(socket);
    };
  }

  #bindError(err: unknown): ProxyError {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    return new ProxyError("E_BIND", `Cannot bind "${this.proxy}" on ${this.key}: ${BIND_ERRNO[code] ?? (err as Error).message}`, { cause: err });
  }
}

/** The part of net's listening handle (TCPWrap) used by #hookAccept. */
interface AcceptHandle {
  onconnection: (err: number, clientHandle?: { setNoDelay?: (on: boolean) => void }) => void;
}
