// One connection of the pair link: the handshake, then records carrying messages, a liveness
// deadline, and backpressure (the caller sees how much is waiting to be written).

import type { Clock, TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { Conn } from "../runtime/transport.ts";
import { FrameReader, frameHeader } from "./frame.ts";
import { type HandshakeAction, type HandshakeConfig, type HandshakeState, type RefusalCode, startHandshake, stepHandshake } from "./handshake.ts";
import { decodeMessage, type Decoded } from "./messages.ts";
import { MAX_RECORD, RecordLayer } from "./record.ts";

/** Largest handshake frame (a hello is 74 bytes, a refusal at most 208). */
const MAX_HANDSHAKE_FRAME = 256;
/** A handshake that takes longer is given up. */
export const HANDSHAKE_TIMEOUT = 5_000;
/**
 * Longest run of message handling in one turn of the event loop (ms): libuv reads a socket up to
 * 32 times per turn, so a resync's records would otherwise be applied back to back for a second
 * or more while the proxy waits. Past it the socket pauses until the next turn.
 */
export const SLICE_MS = 5;

export interface ConnectionEvents {
  established(c: PairConnection): void;
  message(c: PairConnection, m: Decoded): void;
  /** Once, when the connection ends; refusal is set when the handshake refused the peer or was refused. */
  closed(c: PairConnection, reason: string, refusal?: { code: RefusalCode; byPeer: boolean }): void;
}

/**
 * Runs one connection. start() begins the handshake; once established, send() seals messages
 * and the peer's records come to events.message. A connection that hears nothing for `timeout`
 * ms (heartbeats come every second) is closed. Every failure closes it with a reason; nothing
 * throws out of the socket's callbacks.
 */
export class PairConnection {
  readonly remote: string;
  readonly #conn: Conn;
  readonly #cfg: HandshakeConfig;
  readonly #clock: Clock;
  readonly #timeout: number;
  readonly #events: ConnectionEvents;
  #state: HandshakeState = { name: "failed" };
  #records: RecordLayer | undefined;
  readonly #reader = new FrameReader(MAX_HANDSHAKE_FRAME);
  #lastHeard = 0;
  #timer: TimerHandle | undefined;
  #closed = false;
  #yielding = false;
  #drainWaiters: (() => void)[] = [];
  /** Monotonic ms the handshake completed. */
  establishedAt = 0;

  constructor(conn: Conn, cfg: HandshakeConfig, deps: { clock: Clock; timeout: number }, events: ConnectionEvents) {
    this.#conn = conn;
    this.#cfg = cfg;
    this.#clock = deps.clock;
    this.#timeout = deps.timeout;
    this.#events = events;
    this.remote = conn.remoteAddress ?? "?";
  }

  get established(): boolean {
    return this.#records !== undefined && !this.#closed;
  }

  /** Bytes queued in the socket, not yet sent. */
  get writableLength(): number {
    return this.#conn.writableLength;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    this.#conn.on("data", (chunk) => this.#onData(chunk));
    this.#conn.on("error", (err) => this.close(`socket error: ${describeError(err)}`));
    // Accepted connections are half-open capable: the peer's FIN ends the link at once.
    this.#conn.on("end", () => this.close("the peer closed the connection"));
    this.#conn.on("close", () => this.close("the peer closed the connection"));
    this.#conn.on("drain", () => {
      for (const w of this.#drainWaiters.splice(0)) w();
    });
    this.#lastHeard = this.#clock.now();
    this.#arm(HANDSHAKE_TIMEOUT, () => this.close(`no handshake within ${HANDSHAKE_TIMEOUT / 1000}s`));
    this.#run(startHandshake(this.#cfg));
    if (this.#conn.isPaused()) this.#conn.resume();
  }

  /** Seals and writes one message (established only). Returns false when the socket's buffer is full. */
  send(plain: Buffer): boolean {
    if (!this.#records || this.#closed) return false;
    return this.#write(this.#records.seal(plain));
  }

  /** Resolves once the socket's buffer drained (or the connection closed). */
  drained(): Promise<void> {
    if (this.#closed || this.#conn.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Ends the connection once (events.closed follows); `flush`: let queued bytes leave first (a refusal). */
  close(reason: string, refusal?: { code: RefusalCode; byPeer: boolean }, flush = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    if (flush) {
      this.#conn.end();
      this.#clock.setTimeout(() => this.#conn.destroy(), 1000);
    } else this.#conn.destroy();
    for (const w of this.#drainWaiters.splice(0)) w();
    this.#events.closed(this, reason, refusal);
  }

  #write(payload: Buffer): boolean {
    return this.#conn.write(Buffer.concat([frameHeader(payload.length), payload]));
  }

  #arm(ms: number, fn: () => void): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimeout(fn, ms);
  }

  /** Liveness: checked a few times per timeout; any record counts. */
  #watch(): void {
    const every = Math.max(100, Math.floor(this.#timeout / 3));
    this.#arm(every, () => {
      const silent = this.#clock.now() - this.#lastHeard;
      if (silent > this.#timeout) return this.close(`nothing heard from the peer for ${(silent / 1000).toFixed(1)}s`);
      this.#watch();
    });
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#lastHeard = this.#clock.now();
    this.#reader.push(chunk);
    if (!this.#yielding) this.#handleFrames();
  }

  /** Handles the complete frames, for at most SLICE_MS; then pauses the socket until the next turn. */
  #handleFrames(): void {
    const started = this.#clock.now();
    try {
      for (let payload = this.#reader.next(); payload && !this.#closed; payload = this.#reader.next()) {
        if (!this.#records) this.#run(stepHandshake(this.#cfg, this.#state, payload));
        else this.#events.message(this, decodeMessage(this.#records.open(payload)));
        if (this.#clock.now() - started > SLICE_MS && !this.#closed) return this.#yield();
      }
    } catch (err) {
      this.close(describeError(err));
    }
  }

  #yield(): void {
    this.#yielding = true;
    this.#conn.pause();
    setImmediate(() => {
      this.#yielding = false;
      if (this.#closed) return;
      // Heard from, even if the bytes waited here: the liveness check must not count our pause.
      this.#lastHeard = this.#clock.now();
      this.#handleFrames();
      if (!this.#yielding) this.#conn.resume();
    });
  }

  #run(step: { state: HandshakeState; actions: HandshakeAction[] }): void {
    this.#state = step.state;
    for (const a of step.actions) {
      if (a.type === "send") this.#write(a.payload);
      else if (a.type === "refuse") {
        if (a.tell) this.#write(a.tell);
        return this.close(a.reason, { code: a.code, byPeer: a.byPeer }, a.tell !== undefined);
      } else {
        this.#records = new RecordLayer(a.keys);
        this.#reader.max = MAX_RECORD;
        this.establishedAt = this.#clock.now();
        this.#watch();
        this.#events.established(this);
      }
    }
  }
}
