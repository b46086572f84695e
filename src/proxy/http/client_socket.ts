// The client connection's I/O for an HTTP session: its listeners, flow control, `timeout client`,
// and the two ways it ends (a linger after our FIN, or a plain close).

import type { Clock, TimerHandle } from "../../core/clock.ts";
import { readerOf } from "../../runtime/chunk_reader.ts";
import type { ChunkReader } from "../../runtime/chunk_reader.ts";
import type { Conn } from "../../runtime/transport.ts";

/** How long a closing client connection may stay open after our FIN. */
export const LINGER_MS = 1000;

/** What the session does with the connection's events. */
export interface ClientEvents {
  data(chunk: Buffer): void;
  end(): void;
  close(): void;
  drain(): void;
  timeout(): void;
}

/** One client connection; installs its listeners once (listen) and removes them for a tunnel. */
export class ClientSocket {
  readonly conn: Conn;
  /** Set when the connection was accepted with a ChunkReader: no 'data' events. */
  readonly reader: ChunkReader | undefined;
  /** Reading is paused by us (flow control), not by the transport. */
  paused = false;
  /** Our side is closing: no more responses. */
  lingering = false;
  readonly #clock: Clock;
  #timed = false;
  #linger: TimerHandle | undefined = undefined;
  readonly #events: ClientEvents;
  // Listeners as fields over #events: the same closures made in the constructor (capturing its
  // scope) kept ~4 more young GCs promoting whole connections after a full GC (gc_churn_test).
  readonly #onData = (c: Buffer): void => this.#events.data(c);
  readonly #onChunk = (c: Buffer): boolean => {
    this.#events.data(c);
    return true; // pausing goes through conn.pause(), which stops the reader too
  };
  readonly #onEnd = (): void => this.#events.end();
  readonly #onClose = (): void => this.#events.close();
  readonly #onDrain = (): void => this.#events.drain();
  readonly #onTimeout = (): void => this.#events.timeout();

  constructor(conn: Conn, clock: Clock, events: ClientEvents) {
    this.conn = conn;
    this.reader = readerOf(conn);
    this.#clock = clock;
    this.#events = events;
  }

  /** Installs (on) or removes every listener of the connection. */
  listen(on: boolean): void {
    const s = this.conn;
    const reader = this.reader;
    if (reader) reader.onChunk = on ? this.#onChunk : undefined; // off: tunnel() takes the reader over
    if (on) {
      if (!reader) s.on("data", this.#onData);
      s.on("end", this.#onEnd).on("close", this.#onClose).on("drain", this.#onDrain).on("timeout", this.#onTimeout);
    } else {
      if (!reader) s.off("data", this.#onData);
      s.off("end", this.#onEnd).off("close", this.#onClose).off("drain", this.#onDrain).off("timeout", this.#onTimeout);
      s.setTimeout(0);
    }
  }

  pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.conn.pause();
    }
  }

  resume(): void {
    if (this.paused && !this.lingering) {
      this.paused = false;
      this.conn.resume();
    }
  }

  /**
   * `timeout client` (ms) armed or not: only while the session waits on the client; a socket
   * without a timeout costs no timer refresh per read and write.
   */
  timeout(want: boolean, ms: number): void {
    if (want === this.#timed) return;
    this.#timed = want;
    this.conn.setTimeout(want ? ms : 0);
  }

  /**
   * Ends our side after pending writes. The socket closes when the client closes its side; a
   * client that keeps it open (or keeps trickling bytes) is cut after LINGER_MS, so a slow or
   * hostile client never keeps the frontend slot. False when it was closing already.
   */
  linger(): boolean {
    if (this.lingering) return false;
    this.lingering = true;
    this.conn.end();
    if (this.conn.destroyed) return true;
    this.paused = false;
    this.conn.resume(); // read and drop until the client's FIN
    this.#linger = this.#clock.setTimeout(() => this.conn.destroy(), LINGER_MS);
    return true;
  }

  /** Closes at once (what was written still goes out before the FIN). */
  close(): void {
    this.lingering = true;
    this.conn.destroy();
  }

  /** The connection is gone: no linger timer left behind. */
  closed(): void {
    this.#linger?.cancel();
    this.#linger = undefined;
  }
}
