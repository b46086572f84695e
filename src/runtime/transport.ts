// The proxy's seam to the operating system's stream sockets: listening, accepting, connecting,
// reading, writing and closing. node:net is the first implementation (net_transport.ts); a data
// path on raw file descriptors, or another runtime's sockets, plug in here and pass the same
// contract test (test/runtime/transport_contract_test.ts).

import type { ChunkReader } from "./chunk_reader.ts";

/** Events a connection emits (node:net's names and arguments) and their listeners. */
export type ConnEvent = "data" | "end" | "close" | "error" | "timeout" | "drain" | "connect";
type Signal = "end" | "timeout" | "drain" | "connect";

/**
 * A connected stream socket: the part of node:net's Socket the proxy uses, with its semantics
 * (a net.Socket is one). Created paused when accepted; `allowHalfOpen`: a FIN from the peer
 * ('end') leaves our side writable until end().
 */
export interface Conn {
  on(event: "data", listener: (chunk: Buffer) => void): this;
  on(event: "close", listener: (hadError: boolean) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  on(event: Signal, listener: () => void): this;
  once(event: "data", listener: (chunk: Buffer) => void): this;
  once(event: "close", listener: (hadError: boolean) => void): this;
  once(event: "error", listener: (err: Error) => void): this;
  once(event: Signal, listener: () => void): this;
  off(event: "data", listener: (chunk: Buffer) => void): this;
  off(event: "close", listener: (hadError: boolean) => void): this;
  off(event: "error", listener: (err: Error) => void): this;
  off(event: Signal, listener: () => void): this;
  listenerCount(event: ConnEvent): number;
  /** Queues bytes; false when the buffer is over its high-water mark ('drain' follows). */
  write(chunk: Uint8Array | string, encoding?: "latin1"): boolean;
  /** Sends FIN after pending writes. */
  end(): this;
  /** Closes at once (RST if unread data), 'close' follows. */
  destroy(): this;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  /** Puts bytes back in front of the stream ('data' delivers them again). */
  unshift(chunk: Uint8Array): void;
  /** Idle timeout in ms (0: none): 'timeout' after that long without reads or writes. */
  setTimeout(ms: number): this;
  /** Batches writes until uncork(). */
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writable: boolean;
  readonly readableEnded: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableLength: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  /** The idle timeout last set. */
  readonly timeout?: number;
}

/** A failed listen or dial: `code` is the errno name (EADDRINUSE, ECONNREFUSED...) or ETIMEDOUT / ECLOSED. */
export interface TransportError extends Error {
  code?: string;
}

export interface ListenOptions {
  host: string;
  /** 0: the kernel picks one (Listening.port tells). */
  port: number;
  backlog: number;
  /** Listening sockets for this address (SO_REUSEPORT when more than one). */
  acceptors: number;
  /** Share the address with other processes (proxy workers). */
  reusePort: boolean;
}

/** What a listening address tells its owner. */
export interface ListenHandlers {
  /** An accepted connection, paused, with noDelay. */
  connection(conn: Conn): void;
  /** Read new connections through a ChunkReader (readerOf tells which did), asked per accept. */
  readers(): boolean;
  /** A listening socket failed after it was bound. */
  error(err: Error): void;
}

/** Bound listening sockets of one address. */
export interface Listening {
  /** The port bound (the kernel's choice when 0 was asked). */
  readonly port: number;
  /** Listening sockets bound. */
  readonly acceptors: number;
  /** Stops accepting at once; accepted connections are not touched. */
  close(): void;
}

export interface DialOptions {
  host: string;
  port: number;
  /** ms to connect (0: the kernel's SYN retries only). */
  timeout: number;
  /** Read the connection through this reader instead of 'data' events. */
  reader?: ChunkReader;
}

/** Told once how a dial ended: connected (err undefined) or failed (conn destroyed). */
export interface DialWaiter {
  dialed(err: TransportError | undefined, conn: Conn): void;
}

export interface Transport {
  readonly name: string;
  /**
   * Binds host:port. Rejects with a TransportError whose code is the errno (EADDRINUSE,
   * EADDRNOTAVAIL, EACCES...); with more than one acceptor and no reusePort, an address someone
   * else holds fails as it would with one socket.
   */
  listen(options: ListenOptions, handlers: ListenHandlers): Promise<Listening>;
  /**
   * Connects. The returned connection can be destroyed to give up (the waiter then gets code
   * ECLOSED); a connect timeout is code ETIMEDOUT. The waiter is never told synchronously.
   */
  dial(options: DialOptions, waiter: DialWaiter): Conn;
}
