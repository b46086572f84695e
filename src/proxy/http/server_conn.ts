// A server-side HTTP connection: its listeners installed once, forwarding to whichever session
// uses it now, so it can wait in its backend's idle pool (idle_pool.ts) between requests.

import type { Conn } from "../../runtime/transport.ts";
import { readerOf } from "../../runtime/chunk_reader.ts";
import type { Backend } from "../backend.ts";
import type { Idle } from "../idle_pool.ts";
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

/**
 * One connection to a server. Its listeners are installed once and forward to `owner`, so a
 * connection moves between client sessions without re-wiring. While idle (no owner) any byte
 * or FIN from the server closes it. Its socket is in server.sockets while open, so
 * `on_marked_down: shutdown_sessions` reaches pooled connections too.
 */
export class ServerConn implements Idle {
  readonly socket: Conn;
  readonly server: Server;
  readonly backend: Backend;
  owner: ServerConnOwner | undefined;
  /** Requests sent on this connection so far. */
  requests = 0;
  closed = false;
  #onData = (c: Buffer) => (this.owner ? this.owner.onServerData(c) : this.socket.destroy());
  #onChunk = (c: Buffer): boolean => {
    this.#onData(c);
    return true;
  };
  #onEnd = () => (this.owner ? this.owner.onServerEnd() : this.socket.destroy());
  #onClose = () => {
    this.closed = true;
    this.server.sockets.forget(this.socket);
    this.backend.idle.remove(this);
    this.owner?.onServerClose();
  };
  #onDrain = () => this.owner?.onServerDrain();
  #onTimeout = () => (this.owner ? this.owner.onServerTimeout() : this.socket.destroy());
  #onError = () => {}; // 'close' follows with the outcome

  constructor(socket: Conn, server: Server, backend: Backend) {
    this.socket = socket;
    this.server = server;
    this.backend = backend;
    // A connection made with a ChunkReader is read through it: no 'data'.
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
  detach(): Conn {
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

  park(): void {
    this.owner = undefined;
  }

  destroy(): void {
    this.owner = undefined;
    this.socket.destroy();
  }
}
