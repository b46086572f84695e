// Idle server connections kept for reuse (http_reuse), per server, owned by their backend.

import type { Conn } from "../runtime/transport.ts";
import type { Server } from "./server.ts";

/** A connection that can wait in the pool: its socket, its server, and how to close it. */
export interface Idle {
  readonly socket: Conn;
  readonly server: Server;
  /** Set once the socket closed (it is then removed from the pool). */
  readonly closed: boolean;
  /** Leaves its current user (it is parked or closed next). */
  park(): void;
  destroy(): void;
}

/** Idle connections kept per server; more are closed instead of pooled. */
export const MAX_IDLE_PER_SERVER = 1024;

/** Idle connections by server, most recently used first out (warm ones, fewer server timeouts). */
export class IdlePool<T extends Idle = Idle> {
  #idle = new Map<Server, T[]>();

  /** Number of idle connections to server. */
  idleCount(server: Server): number {
    return this.#idle.get(server)?.length ?? 0;
  }

  /** An idle, still open connection to server, or undefined. */
  take(server: Server): T | undefined {
    const list = this.#idle.get(server);
    if (!list) return undefined;
    for (let c = list.pop(); c; c = list.pop()) {
      if (!c.closed && !c.socket.destroyed && c.socket.writable && !c.socket.readableEnded) return c;
    }
    return undefined;
  }

  /** Parks a connection whose last exchange ended cleanly; closes it when the pool is full. */
  put(conn: T): void {
    conn.park();
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
  remove(conn: T): void {
    const list = this.#idle.get(conn.server);
    if (!list) return;
    const i = list.lastIndexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#idle.delete(conn.server);
  }

  /** Closes every idle connection (backend stopped, tests). */
  clear(): void {
    for (const list of this.#idle.values()) for (const c of [...list]) c.destroy();
    this.#idle.clear();
  }
}
