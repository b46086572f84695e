// An in-memory Transport (src/runtime/transport.ts) for tests of session logic without sockets:
// listeners by port, connections as pairs of MemoryConn that pass bytes on the next microtask.

import { EventEmitter } from "node:events";
import type { Conn, DialOptions, DialWaiter, Listening, ListenHandlers, ListenOptions, Transport, TransportError } from "../../src/runtime/transport.ts";

let nextPort = 40_000;

/** One end of an in-memory connection, with node:net's allowHalfOpen semantics. */
export class MemoryConn extends EventEmitter implements Conn {
  peer!: MemoryConn;
  destroyed = false;
  readableEnded = false;
  writableEnded = false;
  writableFinished = false;
  bytesRead = 0;
  bytesWritten = 0;
  timeout = 0;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  #paused: boolean;
  #inbox: (Buffer | null)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(local: [string, number], remote: [string, number], paused: boolean) {
    super();
    [this.localAddress, this.localPort] = local;
    [this.remoteAddress, this.remotePort] = remote;
    this.#paused = paused;
  }

  get writable(): boolean {
    return !this.destroyed && !this.writableEnded;
  }

  get writableLength(): number {
    return 0;
  }

  write(chunk: Uint8Array | string, encoding?: "latin1"): boolean {
    if (!this.writable) return false;
    const b = typeof chunk === "string" ? Buffer.from(chunk, encoding ?? "utf8") : Buffer.from(chunk);
    this.bytesWritten += b.length;
    this.#touch();
    const peer = this.peer;
    queueMicrotask(() => peer.#receive(b));
    return true;
  }

  end(): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    queueMicrotask(() => {
      this.writableFinished = true;
      this.peer.#receive(null);
      this.#closeIfDone();
    });
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#clearTimer();
    queueMicrotask(() => {
      this.emit("close", false);
      // The other end sees a reset unless it had finished both ways.
      const peer = this.peer;
      if (!peer.destroyed) {
        if (!peer.readableEnded) peer.emit("error", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
        peer.destroyed = true;
        peer.#clearTimer();
        peer.emit("close", !peer.readableEnded);
      }
    });
    return this;
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    this.#paused = false;
    queueMicrotask(() => this.#flush());
    return this;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  unshift(chunk: Uint8Array): void {
    this.#inbox.unshift(Buffer.from(chunk));
  }

  setTimeout(ms: number): this {
    this.timeout = ms;
    this.#touch();
    return this;
  }

  cork(): void {}
  uncork(): void {}

  #receive(b: Buffer | null): void {
    if (this.destroyed) return;
    this.#inbox.push(b);
    this.#flush();
  }

  #flush(): void {
    while (!this.#paused && this.#inbox.length > 0 && !this.destroyed) {
      const b = this.#inbox.shift()!;
      if (b === null) {
        this.readableEnded = true;
        this.emit("end");
        this.#closeIfDone();
      } else {
        this.bytesRead += b.length;
        this.#touch();
        this.emit("data", b);
      }
    }
  }

  #closeIfDone(): void {
    if (this.readableEnded && this.writableFinished && !this.destroyed) {
      this.destroyed = true;
      this.#clearTimer();
      this.emit("close", false);
    }
  }

  #touch(): void {
    this.#clearTimer();
    if (this.timeout > 0 && !this.destroyed) this.#timer = setTimeout(() => this.emit("timeout"), this.timeout);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Transport whose listeners live in a map and whose dials pair MemoryConns. */
export class MemoryTransport implements Transport {
  readonly name = "memory";
  readonly #listeners = new Map<number, ListenHandlers>();
  /** Connections dialed so far, per port. */
  readonly dials = new Map<number, number>();

  listen(options: ListenOptions, handlers: ListenHandlers): Promise<Listening> {
    const port = options.port || nextPort++;
    if (this.#listeners.has(port)) return Promise.reject(Object.assign(new Error("address in use"), { code: "EADDRINUSE" }));
    this.#listeners.set(port, handlers);
    const listeners = this.#listeners;
    return Promise.resolve({ port, acceptors: 1, close: () => void listeners.delete(port) });
  }

  dial(options: DialOptions, waiter: DialWaiter): Conn {
    const clientPort = nextPort++;
    const client = new MemoryConn(["127.0.0.1", clientPort], [options.host, options.port], false);
    const server = new MemoryConn([options.host, options.port], ["127.0.0.1", clientPort], true);
    client.peer = server;
    server.peer = client;
    this.dials.set(options.port, (this.dials.get(options.port) ?? 0) + 1);
    queueMicrotask(() => {
      if (client.destroyed) return waiter.dialed(Object.assign(new Error("closed while connecting"), { code: "ECLOSED" }) as TransportError, client);
      const l = this.#listeners.get(options.port);
      if (!l) {
        client.destroyed = true;
        return waiter.dialed(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) as TransportError, client);
      }
      l.connection(server);
      waiter.dialed(undefined, client);
    });
    return client;
  }

  /** A client connection to a listening port, as a browser would open (flowing). */
  connect(port: number): MemoryConn {
    const client = new MemoryConn(["127.0.0.1", nextPort], ["127.0.0.1", port], false);
    const server = new MemoryConn(["127.0.0.1", port], ["127.0.0.1", nextPort++], true);
    client.peer = server;
    server.peer = client;
    const l = this.#listeners.get(port);
    if (!l) throw new Error(`nothing listens on memory port ${port}`);
    queueMicrotask(() => l.connection(server));
    return client;
  }
}
