// The one way a session gets a server connection, in both modes: a slot (balancing, stickiness,
// queue), an idle pooled connection or a new one (connect timeout, PROXY header), and the retry
// plan for what fails.

import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import type { ChunkReader } from "../runtime/chunk_reader.ts";
import type { Conn, DialWaiter, Transport, TransportError } from "../runtime/transport.ts";
import type { ClientInfo } from "./accepted_client.ts";
import type { BackendConfig } from "./config_types.ts";
import { ProxyError } from "./errors.ts";
import type { Idle, IdlePool } from "./idle_pool.ts";
import { encodeProxyHeader } from "./proxy_protocol.ts";
import { describeTlsError, startClientTls } from "../tls/client.ts";
import { RetryPlan } from "./retry_plan.ts";
import type { Server } from "./server.ts";
import type { CancelSignal, Slot } from "./slot.ts";

/** A server connection with its slot, as Backend.open hands it over. */
export interface BackendConnection extends Slot {
  socket: Conn;
  /** Connection attempts made (1 = first try worked). */
  attempts: number;
  /** ms spent connecting (last attempt; 0 for a pooled connection). */
  connectTime: number;
  /** The pooled connection this is, when one was reused (OpenOptions.reuse). */
  reused: Idle | undefined;
  /** Gives the slot back, leaving the socket to its owner (a pooled HTTP connection outlives it). */
  releaseSlot(): void;
}

/** Told once how Backend.open ended: a connection, or the last ProxyError. */
export interface OpenWaiter {
  opened(err: ProxyError | undefined, conn: BackendConnection | undefined): void;
}

export interface OpenOptions {
  /** Read a new connection through this reader (runtime/chunk_reader.ts) instead of 'data'. */
  reader?: ChunkReader;
  /** Take an idle connection from the backend's pool when the chosen server has one. */
  reuse?: boolean;
  /** The attempts so far (an http request retried after a bad response continues its plan). */
  plan?: RetryPlan;
  /** The server a persistence cookie names (tried first while it is usable). */
  persist?: Server;
}

/** What an Opening needs of its backend (Backend is one). */
export interface OpeningBackend {
  readonly name: string;
  readonly config: BackendConfig;
  readonly idle: IdlePool;
  /** The transport that reaches server (Backend.transportFor). */
  transportFor(server: Server): Transport;
  slotFor(client: ClientInfo, options: { exclude?: ReadonlySet<Server>; prefer?: Server; persist?: Server; signal?: CancelSignal }): Slot | Promise<Slot>;
  stickStore(client: ClientInfo, server: Server): void;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * One open(): reserve a slot, reuse or dial, retry or redispatch per the plan; a CancelSignal for
 * its own queue wait. The waiter is told exactly once: a pooled connection at once (no microtask
 * on the keep-alive path, possibly before Backend.open returns), anything else later.
 */
export class Opening implements DialWaiter, CancelSignal {
  aborted = false;
  readonly plan: RetryPlan;
  readonly #backend: OpeningBackend;
  readonly #client: ClientInfo;
  readonly #options: OpenOptions;
  readonly #waiter: OpenWaiter;
  readonly #clock: Clock;
  readonly #log: Logger;
  #slot: Slot | undefined = undefined;
  #socket: Conn | undefined = undefined;
  #started = 0;
  #onAbort: (() => void) | undefined = undefined;

  constructor(backend: OpeningBackend, client: ClientInfo, options: OpenOptions, waiter: OpenWaiter, clock: Clock, log: Logger) {
    this.#backend = backend;
    this.#client = client;
    this.#options = options;
    this.#waiter = waiter;
    this.#clock = clock;
    this.#log = log;
    this.plan = options.plan ?? new RetryPlan(backend.config.retries, backend.config.redispatch);
  }

  /** Starts the next attempt: a slot now (free) or later (queued). */
  next(): void {
    const plan = this.plan;
    plan.begin();
    const r = this.#backend.slotFor(this.#client, { exclude: plan.exclude, prefer: plan.prefer, persist: this.#options.persist, signal: this });
    if (r instanceof Promise) r.then((slot) => this.#slotted(slot), (err: ProxyError) => this.#waiter.opened(err, undefined));
    else this.#slotted(r);
  }

  /** Gives up: the waiter gets E_ABORTED unless it already got a connection. */
  cancel(): void {
    if (this.aborted) return;
    this.aborted = true;
    const onAbort = this.#onAbort;
    this.#onAbort = undefined;
    onAbort?.();
    this.#socket?.destroy();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#onAbort = listener;
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.#onAbort === listener) this.#onAbort = undefined;
  }

  #slotted(slot: Slot): void {
    if (this.aborted) {
      slot.release();
      this.#waiter.opened(new ProxyError("E_ABORTED", "Client aborted"), undefined);
      return;
    }
    const server = slot.server;
    const backend = this.#backend;
    if (this.#options.reuse) {
      const idle = backend.idle.take(server);
      if (idle !== undefined) {
        backend.stickStore(this.#client, server);
        this.#waiter.opened(undefined, new Connection(slot, idle.socket, this.plan.attempts, 0, idle));
        return;
      }
    }
    this.#slot = slot;
    this.#started = this.#clock.now();
    const port = server.config.port ?? this.#client.dstPort;
    // A TLS connection is read by the TLS layer, not through a reader.
    const reader = server.config.tls ? undefined : this.#options.reader;
    this.#socket = backend.transportFor(server).dial({ host: server.config.address, port, timeout: backend.config.timeouts.connect, reader }, this);
  }

  dialed(err: TransportError | undefined, socket: Conn): void {
    const slot = this.#slot!;
    const server = slot.server;
    if (!err) {
      const proxy = server.config.sendProxy;
      if (proxy) {
        const c = this.#client;
        socket.write(encodeProxyHeader(proxy, { srcAddress: c.srcAddress, srcPort: c.srcPort, dstAddress: c.dstAddress, dstPort: c.dstPort }));
      }
      if (server.config.tls) return this.#secure(socket, slot);
      return this.#connected(socket, slot);
    }
    this.#failed(this.#failure(err, server), slot);
  }

  #connected(socket: Conn, slot: Slot): void {
    this.#slot = undefined;
    this.#socket = undefined;
    this.#backend.stickStore(this.#client, slot.server);
    slot.server.sockets.add(socket);
    this.#waiter.opened(undefined, new Connection(slot, socket, this.plan.attempts, this.#clock.now() - this.#started, undefined));
  }

  /** TLS toward the server (src/tls/client.ts) over the connected socket, within the same connect timeout. */
  #secure(socket: Conn, slot: Slot): void {
    const server = slot.server;
    const timeout = this.#backend.config.timeouts.connect;
    const left = timeout > 0 ? Math.max(1, timeout - (this.#clock.now() - this.#started)) : 0;
    let timer: { cancel(): void } | undefined;
    this.#socket = socket;
    const tls = startClientTls(socket as unknown as Parameters<typeof startClientTls>[0], server.config.tls!, server.config.address, server.config.port ?? this.#client.dstPort, (err, secure) => {
      timer?.cancel();
      if (this.#slot !== slot) return secure?.destroy(); // timed out meanwhile
      if (err || !secure) return this.#failed(new ProxyError("E_CONNECT", this.#why(server, `TLS handshake failed: ${describeTlsError(err ?? new Error("no TLS socket"))}`), { cause: err, server: server.name }), slot);
      this.#connected(secure as unknown as Conn, slot);
    }) as unknown as Conn | undefined;
    if (this.#slot !== slot) return; // failed at once (an unreadable ca_file)
    if (tls) this.#socket = tls;
    if (left > 0) {
      timer = this.#clock.setTimeout(() => {
        this.#socket?.destroy();
        this.#failed(new ProxyError("E_CONNECT_TIMEOUT", this.#why(server, `timeout after ${timeout}ms`), { server: server.name }), slot);
      }, left);
    }
  }

  #failed(failure: ProxyError, slot: Slot): void {
    if (this.#slot !== slot) return; // told already (a timeout raced the handshake)
    if (this.aborted) failure = new ProxyError("E_ABORTED", "Client aborted while connecting", { server: slot.server.name });
    this.#slot = undefined;
    this.#socket = undefined;
    const server = slot.server;
    slot.release();
    if (failure.code !== "E_ABORTED") server.connectErrors++;
    if (failure.code === "E_ABORTED" || this.aborted || !this.plan.canRetry) {
      this.#waiter.opened(failure, undefined);
      return;
    }
    this.#log.debug("connect failed, retrying", { backend: this.#backend.name, server: server.name, attempt: this.plan.attempts, reason: failure.message });
    this.plan.failed(server);
    this.next();
  }

  #why(server: Server, text: string): string {
    return `Cannot connect to server "${server.name}" at ${server.config.address}:${server.config.port ?? this.#client.dstPort}: ${text}`;
  }

  #failure(err: TransportError, server: Server): ProxyError {
    if (err.code === "ECLOSED") return new ProxyError("E_ABORTED", "Client aborted while connecting", { server: server.name });
    if (err.code === "ETIMEDOUT") return new ProxyError("E_CONNECT_TIMEOUT", this.#why(server, `timeout after ${this.#backend.config.timeouts.connect}ms`), { server: server.name });
    return new ProxyError("E_CONNECT", this.#why(server, ERRNO_TEXT[err.code ?? ""] ?? err.message), { cause: err, server: server.name });
  }
}

/** A server connection with its slot; release() settles the server's byte counters once. */
class Connection implements BackendConnection {
  readonly server: Server;
  readonly queued: number;
  readonly socket: Conn;
  readonly attempts: number;
  readonly connectTime: number;
  readonly reused: Idle | undefined;
  #slot: Slot | undefined;

  constructor(slot: Slot, socket: Conn, attempts: number, connectTime: number, reused: Idle | undefined) {
    this.server = slot.server;
    this.queued = slot.queued;
    this.#slot = slot;
    this.socket = socket;
    this.attempts = attempts;
    this.connectTime = connectTime;
    this.reused = reused;
  }

  /** The session is done with the socket and the slot (tcp: the tunnel ended). */
  release(): void {
    if (!this.#slot) return;
    this.server.sockets.forget(this.socket);
    this.releaseSlot();
  }

  releaseSlot(): void {
    const slot = this.#slot;
    if (!slot) return;
    this.#slot = undefined;
    slot.release();
  }
}
