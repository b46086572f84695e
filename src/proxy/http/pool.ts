// Server-side HTTP connections and the per-server pool of idle keep-alive ones (http_reuse).

import type { Socket } from "node:net";
import type { Backend } from "../backend.ts";
import { readerOf } from "../chunk_reader.ts";
import type { Server } from "../server.ts";

/** What a connection reports to the session currently using it. */
export interface ServerConnOwner {
  onServerData(chunk: Buffer): void;
  /** The server sent FIN. */
  onServerEnd(): void;
  /** The socket closed (after an error, a reset or both FINs). */
  onServerClose(): void;
  onServerDrain(): void;
  /** `timeout server` of idleness expired. */
  onServerTimeout(): void;
}

/** Idle connections kept per server; more are closed instead of pooled. */
export const MAX_IDLE_PER_SERVER = 1024;

/**
 * One TCP connection to a server. Its listeners are installed once and forward to `owner`, so a
 * connection moves between client sessions without re-wiring. While idle (no owner) any byte
 * or FIN from the server closes it. Its socket is in server.sockets while open, so
 * `on_marked_down: shutdown_sessions` reaches pooled connections too.
 */
export class ServerConn {
  readonly socket: Socket;
  readonly server: Server;
  readonly backend: Backend;
  owner: ServerConnOwner | undefined;
  /** Requests sent on this connection so far. */
  requests = 0;
  closed = false;
  #pool: ConnPool;
  #onData = (c: Buffer) => (this.owner ? this.owner.onServerData(c) : this.socket.destroy());
  #onChunk = (c: Buffer): boolean => {
    this.#onData(c);
    return true;
  };
  #onEnd = () => (this.owner ? this.owner.onServerEnd() : this.socket.destroy());
  #onClose = () => {
    this.closed = true;
    this.server.sockets.forget(this.socket);
    this.#pool.remove(this);
    this.owner?.onServerClose();
  };
  #onDrain = () => this.owner?.onServerDrain();
  #onTimeout = () => (this.owner ? this.owner.onServerTimeout() : this.socket.destroy());
  #onError = () => {}; // 'close' follows with the outcome

  constructor(socket: Socket, server: Server, backend: Backend, pool: ConnPool) {
    this.socket = socket;
    this.server = server;
    this.backend = backend;
    this.#pool = pool;
    // A socket made with a ChunkReader (backend.connect's reader) is read through it: no 'data'.
    const reader = readerOf(socket);
    if (reader) {
      reader.onChunk = this.#onChunk;
      for (const c of reader.takePending()) this.#onData(c);
      socket.resume(); // flowing, or 'end' is never emitted
    } else socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("drain", this.#onDrain);
    socket.on("error", this.#onError);
    socket.on("timeout", this.#onTimeout);
    socket.setTimeout(backend.config.timeouts.server);
    server.sockets.add(socket);
  }

  /** Hands the socket over to someone else (a tunnel): removes every listener of ours. */
  detach(): Socket {
    const s = this.socket;
    const reader = readerOf(s);
    if (reader) reader.onChunk = undefined; // tunnel() takes the reader over
    else s.off("data", this.#onData);
    s.off("end", this.#onEnd);
    s.off("close", this.#onClose);
    s.off("drain", this.#onDrain);
    s.off("error", this.#onError);
    s.off("timeout", this.#onTimeout);
    s.setTimeout(0);
    this.owner = undefined;
    return s;
  }

  destroy(): void {
    this.owner = undefined;
    this.socket.destroy();
  }
}

/** Idle connections by server, most recently used first out (warm ones, fewer server timeouts). */
export class ConnPool {
  #idle = new Map<Server, ServerConn[]>();

  /** Number of idle connections to server. */
  idleCount(server: Server): number {
    return this.#idle.get(server)?.length ?? 0;
  }

  /** An idle, still open connection to server, or undefined. */
  take(server: Server): ServerConn | undefined {
    const list = this.#idle.get(server);
    if (!list) return undefined;
    for (let c = list.pop(); c; c = list.pop()) {
      if (!c.closed && !c.socket.destroyed && c.socket.writable && !c.socket.readableEnded) return c;
    }
    return undefined;
  }

  /** Parks a connection whose last exchange ended cleanly; closes it when the pool is full. */
  put(conn: ServerConn): void {
    conn.owner = undefined;
    if (conn.closed) return;
    let list = this.#idle.get(conn.server);
    if (!list) this.#idle.set(conn.server, (list = []));
    if (list.length >= MAX_IDLE_PER_SERVER) {
      conn.destroy();
      return;
    }
    if (conn.socket.isPaused()) conn.socket.resume();
    list.push(conn);
  }

  /** Forgets a closed connection. */
  remove(conn: ServerConn): void {
    const list = this.#idle.get(conn.server);
    if (!list) return;
    const i = list.lastIndexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#idle.delete(conn.server);
  }

  /** Closes every idle connection (tests, stop). */
  clear(): void {
    for (const list of this.#idle.values()) for (const c of [...list]) c.destroy();
    this.#idle.clear();
  }
}

/** The process-wide pool the HTTP sessions share. */
export const sharedPool = new ConnPool();
