// A connected TCP socket on a raw, non-blocking file descriptor: the Conn of the fd data path,
// with node:net's semantics for every member transport.ts lists.

import { attachReader } from "./chunk_reader.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import { ConnEvents } from "./conn_events.ts";
import type { ConnEvent, Conn, DialWaiter, TransportError } from "./transport.ts";
import { ERRNO, systemCallError } from "./errno.ts";
import type { PollTarget } from "./fd_poller.ts";
import { SYS } from "./fd_sys.ts";
import { idleTimers } from "./idle_timers.ts";
import type { TimedItem } from "./idle_timers.ts";
import { SendQueue } from "./send_queue.ts";
import { addressText } from "./sockaddr.ts";
import { CHUNK, dialError, io, localName } from "./fd_io.ts";

/** node:net's writableHighWaterMark (and what a 'data'-mode socket keeps unread before it stops reading). */
const HIGH_WATER = 64 * 1024;
/** read(2) calls for one socket before the others get their turn. */
const READS_PER_TURN = 16;
/** Every connection is watched once, edge-triggered, for everything: no epoll_ctl after the first. */
const WATCH = SYS.EPOLLIN | SYS.EPOLLOUT | SYS.EPOLLRDHUP | SYS.EPOLLET;
const CLOSING = SYS.EPOLLRDHUP | SYS.EPOLLHUP | SYS.EPOLLERR;
const NO_CHUNKS: Buffer[] = [];
const RETRY = -2;

export class FdConn extends ConnEvents implements Conn, PollTarget, TimedItem {
  /** The descriptor; -1 once closed. */
  fd: number;
  pollGen = 0;
  lastActive = 0;
  timerMs = 0;
  timerKey = 0;
  timerPrev: TimedItem | undefined = undefined;
  timerNext: TimedItem | undefined = undefined;
  destroyed = false;
  readableEnded = false;
  writableEnded = false;
  writableFinished = false;
  bytesRead = 0;
  bytesWritten = 0;
  timeout: number | undefined = undefined;
  remotePort: number | undefined;
  #reader: ChunkReader | undefined = undefined;
  /** node:net's readableFlowing: null (reads are kept until a 'data' listener), true, false (paused). */
  #flowing: boolean | null;
  /** The kernel may hold unread bytes (an edge came and read(2) did not see EAGAIN since). */
  #readable = false;
  /** A reset or an error was signalled: read until read(2) says which. */
  #closing = false;
  /** The peer's FIN is queued (EPOLLRDHUP without EPOLLERR): the read that comes up short reached it. */
  #finQueued = false;
  #eof = false;
  #flowQueued = false;
  /** Bytes read for 'data' and not yet emitted (unshift, or no listener yet). */
  #pending: Buffer[] = NO_CHUNKS;
  #pendingBytes = 0;
  #writeReady: boolean;
  readonly #queue = new SendQueue();
  #corked = 0;
  #needDrain = false;
  /** Set while connecting: who is told how it ended. */
  #dial: DialWaiter | undefined = undefined;
  #dialMs = 0;
  #remote: number | Buffer | string | undefined;
  #local: { address: string | undefined; port: number } | undefined = undefined;

  /**
   * fd: a connected (accepted) or connecting non-blocking socket, owned from now on: closed by
   * destroy() exactly once. flowing: false for an accepted socket (created paused), null for a
   * dialed one. remote: the peer, as accept4(2) gave it or as dialed.
   */
  constructor(fd: number, flowing: false | null, remote: number | Buffer | string | undefined, remotePort: number | undefined) {
    super();
    this.fd = fd;
    this.#flowing = flowing;
    this.#writeReady = flowing === false;
    this.#remote = remote;
    this.remotePort = remotePort;
  }

  /** Reads go to reader instead of 'data' (readerOf(conn) finds it). */
  useReader(reader: ChunkReader): void {
    this.#reader = reader;
    attachReader(this, reader);
  }

  /** Starts watching the fd; a failure destroys the connection with that error. */
  watch(): void {
    const errno = io.poller.add(this.fd, this, WATCH);
    if (errno !== 0) this.#destroy(systemCallError("epoll_ctl", errno));
  }

  /** A dial in progress: waiter is told once; timeoutMs (0: none) bounds it. */
  connecting(waiter: DialWaiter, timeoutMs: number): void {
    this.#dial = waiter;
    this.#dialMs = timeoutMs;
    if (timeoutMs > 0) idleTimers.arm(this, timeoutMs, io.poller.now());
  }

  /** connect(2) succeeded at once: the waiter still hears of it later, never during dial(). */
  connectedNow(): void {
    process.nextTick(connectedTick, this);
  }

  /** The dialed name's address, once looked up. */
  resolved(address: string): void {
    this.#remote = address;
  }

  /** The connect(2) of a dial failed (or its address could not be resolved). */
  dialFailed(err: TransportError): void {
    this.#destroy(err);
  }

  get writable(): boolean {
    return !this.destroyed && !this.writableEnded;
  }

  get writableLength(): number {
    return this.#queue.bytes;
  }

  get remoteAddress(): string | undefined {
    const r = this.#remote;
    if (r === undefined || typeof r === "string") return r;
    return (this.#remote = addressText(r));
  }

  get localAddress(): string | undefined {
    return (this.#local ??= localName(this.fd))?.address;
  }

  get localPort(): number | undefined {
    return (this.#local ??= localName(this.fd))?.port;
  }

  isPaused(): boolean {
    return this.#flowing === false;
  }

  pause(): this {
    this.#flowing = false;
    return this;
  }

  resume(): this {
    this.#flowing = true;
    this.#flowSoon();
    return this;
  }

  unshift(chunk: Uint8Array): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const reader = this.#reader;
    if (reader !== undefined) {
      const rest = reader.takePending();
      reader.pending = [b, ...rest];
      reader.pendingBytes = rest.reduce((n, c) => n + c.length, b.length);
    } else {
      this.#pending = [b, ...this.#pending];
      this.#pendingBytes += b.length;
    }
    if (this.#flowing === true) this.#flowSoon();
  }

  setTimeout(ms: number): this {
    this.timeout = ms;
    if (this.#dial !== undefined || this.destroyed) return this; // applied once connected
    if (ms > 0) idleTimers.arm(this, ms, io.poller.now());
    else idleTimers.disarm(this);
    return this;
  }

  cork(): void {
    this.#corked++;
  }

  uncork(): void {
    if (this.#corked === 0 || --this.#corked > 0) return;
    if (this.#queue.bytes > 0 && this.#writeReady) this.#flush();
  }

  write(data: Uint8Array | string, encoding?: "latin1"): boolean {
    if (this.destroyed) return false;
    const chunk = typeof data === "string" ? Buffer.from(data, encoding ?? "utf8") : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.writableEnded) {
      const err = new Error("write after end") as TransportError;
      err.code = "ERR_STREAM_WRITE_AFTER_END";
      this.#destroy(err);
      return false;
    }
    const len = chunk.length;
    if (len === 0) return !this.#needDrain;
    this.bytesWritten += len;
    let sent = 0;
    if (this.#queue.bytes === 0 && this.#writeReady && this.#corked === 0) {
      sent = this.#send(chunk, 0);
      if (sent < 0) return false;
      if (sent > 0) this.#touch();
      if (sent === len) return true;
    }
    this.#queue.push(sent === 0 ? chunk : chunk.subarray(sent));
    if (this.#queue.bytes < HIGH_WATER) return true;
    this.#needDrain = true;
    return false;
  }

  end(): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    if (this.#queue.bytes === 0 && this.#dial === undefined && this.fd >= 0) this.#shutdown();
    return this;
  }

  destroy(): this {
    this.#destroy(undefined);
    return this;
  }

  /** epoll says: events (EPOLL* bits). */
  onPoll(events: number): void {
    if (this.#dial !== undefined) {
      if ((events & (SYS.EPOLLERR | SYS.EPOLLHUP)) !== 0) return this.#connectFailed();
      if ((events & SYS.EPOLLOUT) === 0) return;
      this.#connected();
      if (this.destroyed) return;
    } else if ((events & SYS.EPOLLOUT) !== 0) {
      this.#writeReady = true;
      if (this.#queue.bytes > 0) this.#flush();
    }
    if ((events & (SYS.EPOLLIN | CLOSING)) !== 0 && !this.destroyed) {
      this.#readable = true;
      if ((events & SYS.EPOLLERR) !== 0) this.#closing = true;
      else if ((events & SYS.EPOLLRDHUP) !== 0) this.#finQueued = true;
      else if ((events & SYS.EPOLLHUP) !== 0) this.#closing = true;
      if (this.#flowing !== false) this.#read();
    }
  }

  /** Idle for `timeout` ms ('timeout'), or the connect timeout ran out. */
  onIdle(): void {
    if (this.#dial !== undefined) return this.#destroy(dialError("ETIMEDOUT", `timeout after ${this.#dialMs}ms`), true);
    this.emit("timeout");
  }

  protected override listenersChanged(event: ConnEvent): void {
    // net: a 'data' listener starts a socket that was not explicitly paused.
    if (event === "data" && this.#flowing === null && this.listenerCount("data") > 0) this.resume();
  }

  // ---- reading ----

  #flowSoon(): void {
    if (this.#flowQueued || this.destroyed) return;
    this.#flowQueued = true;
    process.nextTick(flowTick, this);
  }

  /** Deferred resume: bytes kept first, then the socket, then a FIN seen while paused. */
  flow(): void {
    this.#flowQueued = false;
    if (this.destroyed || this.#flowing !== true) return;
    if (this.#pendingBytes > 0 && this.#reader === undefined) {
      const kept = this.#pending;
      this.#pending = NO_CHUNKS;
      this.#pendingBytes = 0;
      for (let i = 0; i < kept.length; i++) {
        if (this.#flowing !== true || this.destroyed) {
          this.#pending = kept.slice(i).concat(this.#pending);
          this.#pendingBytes = this.#pending.reduce((n, c) => n + c.length, 0);
          return;
        }
        this.emit("data", kept[i]);
      }
    }
    if (this.#readable) this.#read();
    else if (this.#eof) this.#ended();
  }

  #read(): void {
    const sys = io.sys, rbufAt = io.rbufAt, fd = this.fd;
    for (let reads = 0; this.#readable && !this.destroyed && this.#flowing !== false; reads++) {
      if (reads === READS_PER_TURN || (this.#flowing === null && this.#pendingBytes >= HIGH_WATER)) {
        if (this.#flowing === true) this.#flowSoon();
        return;
      }
      const n = sys.read(fd, rbufAt, io.chunkBig);
      if (n > 0) {
        this.bytesRead += n;
        // Edge-triggered: a short read emptied the queue, and the next bytes bring a new edge. With
        // the peer's FIN queued, it read up to the FIN: no read(2) just to see the 0 (a FIN is not
        // data, so closing without reading it sends no reset).
        const short = n < CHUNK && !this.#closing;
        if (short) this.#readable = false;
        this.#touch();
        this.#deliver(n);
        if (short && this.#finQueued) {
          this.#eof = true;
          this.#ended();
        }
      } else if (n === 0) {
        this.#readable = false;
        this.#eof = true;
        this.#ended();
      } else {
        const errno = sys.errno();
        if (errno === ERRNO.EAGAIN) this.#readable = false;
        else if (errno !== ERRNO.EINTR) this.#destroy(systemCallError("read", errno));
      }
    }
  }

  #deliver(n: number): void {
    const reader = this.#reader;
    if (reader !== undefined) {
      if (!reader.read(n, io.rbuf)) this.#flowing = false;
      return;
    }
    const chunk = Buffer.allocUnsafe(n);
    io.rbuf.copy(chunk, 0, 0, n);
    if (this.#flowing === true && this.#pendingBytes === 0) {
      this.emit("data", chunk);
      return;
    }
    this.#pending = this.#pending === NO_CHUNKS ? [chunk] : (this.#pending.push(chunk), this.#pending);
    this.#pendingBytes += n;
  }

  /** The peer's FIN was read: 'end' once flowing with nothing kept, then close when both sides are done. */
  #ended(): void {
    if (this.readableEnded || this.destroyed || this.#flowing !== true || this.#pendingBytes > 0) return;
    this.readableEnded = true;
    this.emit("end");
    if (this.writableFinished && !this.destroyed) this.destroy();
  }

  // ---- writing ----

  /** One write(2) of chunk[offset..]: bytes sent (0 when the kernel's buffer is full), -1 after a fatal error. */
  #send(chunk: Buffer, offset: number): number {
    const len = chunk.length - offset;
    if (len <= CHUNK) {
      chunk.copy(io.sbuf, 0, offset);
      return this.#sendGathered(len);
    }
    const data = offset === 0 ? chunk : chunk.subarray(offset);
    for (;;) {
      const n = io.sys.writeBuffer(this.fd, data, BigInt(len));
      const r = n >= 0 ? this.#sent(n, len) : this.#sendFailed();
      if (r !== RETRY) return r;
    }
  }

  /** write(2) of the first len bytes of the shared send buffer; as #send. */
  #sendGathered(len: number): number {
    for (;;) {
      const n = io.sys.write(this.fd, io.sbufAt, BigInt(len));
      const r = n >= 0 ? this.#sent(n, len) : this.#sendFailed();
      if (r !== RETRY) return r;
    }
  }

  #sent(n: number, len: number): number {
    // Short: the kernel's buffer is full, and its EPOLLOUT edge will say when it is not.
    if (n < len) this.#writeReady = false;
    return n;
  }

  /** After a -1 from write(2): RETRY (EINTR), 0 (EAGAIN: nothing sent), -1 (fatal: destroyed). */
  #sendFailed(): number {
    const errno = io.sys.errno();
    if (errno === ERRNO.EINTR) return RETRY;
    if (errno !== ERRNO.EAGAIN) {
      this.#destroy(systemCallError("write", errno));
      return -1;
    }
    this.#writeReady = false;
    return 0;
  }

  /** Sends what is queued, small chunks gathered into one write(2), until done or EAGAIN. */
  #flush(): void {
    const q = this.#queue;
    while (q.bytes > 0 && this.#writeReady && !this.destroyed) {
      const large = q.largeHead(CHUNK);
      const n = large !== undefined ? this.#send(large, 0) : this.#sendGathered(q.gather(io.sbuf));
      if (n <= 0) continue;
      this.#touch();
      q.consume(n);
    }
    if (q.bytes > 0 || this.destroyed) return;
    if (this.#needDrain) {
      this.#needDrain = false;
      process.nextTick(drainTick, this);
    }
    if (this.writableEnded && !this.writableFinished) this.#shutdown();
  }

  #shutdown(): void {
    // A failure (ENOTCONN: the peer reset) shows on the read side; the FIN is moot then.
    io.sys.shutdown(this.fd, SYS.SHUT_WR);
    this.writableFinished = true;
    if (this.readableEnded) this.destroy();
  }

  /** Activity: the idle timer counts from now (and starts again after it fired, as net's does). */
  #touch(): void {
    const ms = this.timeout;
    if (ms === undefined || ms <= 0) return;
    if (this.timerMs === 0) idleTimers.arm(this, ms, io.poller.now());
    else this.lastActive = io.poller.now();
  }

  // ---- connecting ----

  #connected(): void {
    const waiter = this.#dial!;
    this.#dial = undefined;
    idleTimers.disarm(this);
    this.#writeReady = true;
    waiter.dialed(undefined, this);
    if (this.destroyed) return;
    this.emit("connect");
    const ms = this.timeout;
    if (ms !== undefined && ms > 0 && this.timerMs === 0) idleTimers.arm(this, ms, io.poller.now());
    if (this.#queue.bytes > 0 && this.#corked === 0) this.#flush();
    else if (this.writableEnded && !this.writableFinished && this.#queue.bytes === 0) this.#shutdown();
  }

  #connectFailed(): void {
    const sys = io.sys;
    io.len.writeUInt32LE(4, 0);
    const got = sys.getsockopt(this.fd, SYS.SOL_SOCKET, SYS.SO_ERROR, io.addrAt, io.lenAt);
    const errno = got === 0 ? io.addr.readInt32LE(0) : sys.errno();
    this.#destroy(systemCallError("connect", errno === 0 ? ERRNO.ECONNREFUSED : errno, this.remoteAddress, this.remotePort), true);
  }

  // ---- closing ----

  /**
   * Closes the fd now (once) and reports: the dial's waiter, then 'error', then 'close' (deferred).
   * dialEnded: the connect failed or timed out in an event of its own, so the waiter hears it now,
   * as net's does from its 'error' (later, a cancel in between would see a dial still running).
   */
  #destroy(err: TransportError | undefined, dialEnded = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    idleTimers.disarm(this);
    if (this.fd >= 0) {
      io.poller.forget(this.fd, this);
      io.sys.close(this.fd);
      this.fd = -1;
    }
    this.#queue.clear();
    this.#pending = NO_CHUNKS;
    this.#pendingBytes = 0;
    let waiter = this.#dial;
    this.#dial = undefined;
    if (waiter !== undefined && dialEnded) {
      waiter.dialed(err!, this);
      waiter = undefined;
    }
    process.nextTick(closeTick, this, err, waiter);
  }

  /** Runs the deferred end of destroy(). */
  closed(err: TransportError | undefined, waiter: DialWaiter | undefined): void {
    // The waiter hears why the dial ended; ETIMEDOUT / ECLOSED are the transport's, not socket errors.
    const socketError = err !== undefined && err.code !== "ETIMEDOUT" ? err : undefined;
    if (waiter !== undefined) waiter.dialed(err ?? dialError("ECLOSED", "closed while connecting"), this);
    if (socketError !== undefined) this.emit("error", socketError);
    this.emit("close", socketError !== undefined);
  }

  /** Emits 'drain' (deferred from the flush that emptied the queue). */
  drained(): void {
    if (!this.destroyed) this.emit("drain");
  }
}

function flowTick(conn: FdConn): void {
  conn.flow();
}

function drainTick(conn: FdConn): void {
  conn.drained();
}

function connectedTick(conn: FdConn): void {
  if (!conn.destroyed) conn.onPoll(SYS.EPOLLOUT);
}

function closeTick(conn: FdConn, err: TransportError | undefined, waiter: DialWaiter | undefined): void {
  conn.closed(err, waiter);
}
