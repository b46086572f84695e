// A frontend at run time: admission under global/frontend maxconn, accept_proxy, session hand-off.

import type { FrontendConfig, ListenAddress } from "./config_types.ts";
import type { Clock } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { CountedSockets } from "./counted_sockets.ts";
import { AcceptedClient } from "./accepted_client.ts";
import type { Conn } from "../runtime/transport.ts";
import type { ClientInfo } from "./accepted_client.ts";
import type { Backend } from "./backend.ts";
import { parseProxyHeader } from "./proxy_protocol.ts";
import type { SessionContext, SessionHandler } from "./session.ts";
import { StopGroup } from "./stop_group.ts";
import type { LocalServices } from "./http/request_env.ts";
import { SourceTracking } from "./source_tracking.ts";
import type { StickTable } from "./stick_table.ts";
import { WaitQueue } from "./wait_queue.ts";

/** The process-wide connection budget (global.maxconn), shared by every frontend. */
export class GlobalLimit {
  max: number;
  active = 0;
  readonly frontends = new Set<Frontend>();
  constructor(max: number) {
    this.max = max;
  }
  get full(): boolean {
    return this.max > 0 && this.active >= this.max;
  }
  /** A slot came free somewhere: let the frontends admit held connections. */
  wake(): void {
    for (const f of this.frontends) f.admit();
  }
}

const unmap = (ip: string | undefined): string => (ip?.startsWith("::ffff:") ? ip.slice(7) : (ip ?? ""));
const ignore = () => {};

/**
 * Node cannot stop accept()ing without closing the listener, so "stop accepting" over maxconn is
 * done in user space: an accepted connection over the limit stays paused (no byte read) in a
 * FIFO and starts when a slot frees — queued, never dropped. (haproxy stops polling the listener
 * and lets the kernel backlog hold them; the client sees the same: a connection that waits.)
 */
export class Frontend {
  config: FrontendConfig;
  /** Backends of the config current at accept time (replaced on reload). */
  backends: ReadonlyMap<string, Backend>;
  handler: SessionHandler;
  active = 0;
  total = 0;
  readonly #held = new WaitQueue<{ socket: Conn; bind: ListenAddress }>();
  /** Client sockets of running sessions, and the bytes from and to every client so far. */
  readonly sockets = new CountedSockets();
  #limit: GlobalLimit;
  #clock: Clock;
  #bus: EventBus;
  #log: Logger;
  readonly #stops = new StopGroup();
  #retiring = new AbortController();
  #drained: (() => void)[] = [];
  /** The handler's per-frontend state (SessionHandler.prepare), handed to every session. */
  readonly #prepared: unknown;
  /** Ends a session: one function for every session of the frontend (SessionHandler.run's done). */
  readonly #ended = (socket: Conn): void => {
    if (!this.sockets.forget(socket)) return;
    this.active--;
    this.#limit.active--;
    this.#limit.wake();
    if (this.active === 0 && this.#held.length === 0) for (const r of this.#drained.splice(0)) r();
  };

  /** The frontend's stick counters (counters:), kept by the proxy subsystem across reloads. */
  readonly counters: StickTable | undefined;
  readonly #services: LocalServices | undefined;

  constructor(config: FrontendConfig, deps: { backends: ReadonlyMap<string, Backend>; handler: SessionHandler; limit: GlobalLimit; clock: Clock; bus: EventBus; log: Logger; counters?: StickTable; services?: LocalServices }) {
    this.config = config;
    this.counters = config.counters ? deps.counters : undefined;
    this.#services = deps.services;
    this.backends = deps.backends;
    this.handler = deps.handler;
    this.#limit = deps.limit;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#prepared = deps.handler.prepare?.(config, deps.log);
    deps.limit.frontends.add(this);
  }

  get name(): string {
    return this.config.name;
  }

  get held(): number {
    return this.#held.length;
  }

  get #full(): boolean {
    const max = this.config.maxconn;
    return this.#limit.full || (max !== undefined && max > 0 && this.active >= max);
  }

  /** Takes an accepted (paused) socket from a listener. */
  accept(socket: Conn, bind: ListenAddress): void {
    socket.on("error", ignore);
    if (this.#full || this.#held.length > 0) {
      const w = this.#held.push({ socket, bind }, this.#clock.now());
      socket.once("close", () => this.#held.cancel(w));
      return;
    }
    this.#start(socket, bind);
  }

  /** Starts held connections while there is room. */
  admit(): void {
    while (!this.#full) {
      const w = this.#held.shift();
      if (!w) return;
      if (!w.value.socket.destroyed) this.#start(w.value.socket, w.value.bind);
    }
  }

  /** Resolves when no session of this frontend is running any more. */
  drained(): Promise<void> {
    if (this.active === 0 && this.#held.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Tells sessions to finish: idle keep-alive connections close now, busy ones after their response. */
  beginStop(): void {
    this.#retiring.abort();
    this.#stops.stop();
  }

  /**
   * A reload replaced this frontend: every client connection closes after its current or next
   * response (Connection: close), or when idle past `timeout http_keep_alive`; none is closed
   * while a request may be on its way.
   */
  retire(): void {
    this.#retiring.abort();
  }

  /** Closes every client connection (end of the grace period on stop). */
  killAll(): void {
    for (const w of this.#held.drain()) w.value.socket.destroy();
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Closes the client connections (running and held) accepted on one of these local addresses:
   * a VIP that left this host. Returns how many were closed.
   */
  closeAcceptedOn(addresses: ReadonlySet<string>): number {
    let n = 0;
    // A held socket's 'close' cancels its waiter; admit() skips destroyed ones meanwhile.
    for (const w of this.#held.values()) {
      if (addresses.has(unmap(w.value.socket.localAddress))) {
        w.value.socket.destroy();
        n++;
      }
    }
    for (const s of this.sockets) {
      if (addresses.has(unmap(s.localAddress))) {
        s.destroy();
        n++;
      }
    }
    return n;
  }

  /** Leaves the global admission set (frontend removed and drained). */
  detach(): void {
    this.#limit.frontends.delete(this);
  }

  #start(socket: Conn, bind: ListenAddress): void {
    this.active++;
    this.total++;
    this.#limit.active++;
    this.sockets.add(socket);
    const run = this.handler.run;
    if (run && !bind.acceptProxy) {
      // Hot path: no promise, addresses read from the socket only if the session needs them.
      try {
        const ctx = this.#context(socket, new AcceptedClient(socket, this.name), bind);
        run(ctx, ctx.tracking ? this.#tracked(ctx.tracking) : this.#ended);
      } catch (err) {
        this.#failed(socket, err);
      }
      return;
    }
    void this.#run(socket, bind).then(() => this.#ended(socket));
  }

  #context(socket: Conn, client: ClientInfo, bind: ListenAddress): SessionContext {
    const ctx: SessionContext = { socket, client, frontend: this.config, bind, backends: this.backends, clock: this.#clock, bus: this.#bus, log: this.#log, stops: this.#stops, retiring: this.#retiring.signal, prepared: this.#prepared, services: this.#services };
    if (this.counters && this.config.counters) {
      ctx.tracking = new SourceTracking(this.counters, this.config.counters, client, this.#clock);
      ctx.tracking.opened();
    }
    return ctx;
  }

  /** The end of a session whose client is tracked (counters:): the connection stops counting. */
  #tracked(tracking: SourceTracking): (socket: Conn) => void {
    return (socket) => {
      tracking.closed();
      this.#ended(socket);
    };
  }

  #failed(socket: Conn, err: unknown): void {
    this.#log.error(`Session of "${this.name}" failed: ${(err as Error).message}`, { frontend: this.name });
    socket.destroy();
    this.#ended(socket);
  }

  async #run(socket: Conn, bind: ListenAddress): Promise<void> {
    try {
      let client: ClientInfo | undefined = new AcceptedClient(socket, this.name).snapshot();
      if (bind.acceptProxy) client = await this.#readProxyHeader(socket, client);
      if (!client) return;
      const ctx = this.#context(socket, client, bind);
      const run = this.handler.run;
      try {
        if (run) await new Promise<void>((resolve) => run(ctx, () => resolve()));
        else await this.handler(ctx);
      } finally {
        ctx.tracking?.closed();
      }
    } catch (err) {
      this.#log.error(`Session of "${this.name}" failed: ${(err as Error).message}`, { frontend: this.name });
      socket.destroy();
    }
  }

  /** Reads the PROXY header (v1/v2) within `timeout client`; a bad one closes the connection. */
  #readProxyHeader(socket: Conn, local: ClientInfo): Promise<ClientInfo | undefined> {
    return new Promise((resolve) => {
      let buf: Buffer = Buffer.alloc(0);
      const timer = this.#clock.setTimeout(() => fail("timeout waiting for the PROXY header"), this.config.timeouts.client || 10_000);
      const cleanup = () => {
        timer.cancel();
        socket.off("data", onData);
        socket.off("close", onClose);
      };
      const fail = (why: string) => {
        cleanup();
        this.#log.warn(`Connection from ${local.srcAddress}:${local.srcPort} to "${this.name}" closed: ${why}`, { frontend: this.name });
        socket.destroy();
        resolve(undefined);
      };
      const onClose = () => fail("closed before the PROXY header");
      const onData = (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        let out;
        try {
          out = parseProxyHeader(buf);
        } catch (err) {
          return fail((err as Error).message);
        }
        if (!out.done) return;
        cleanup();
        socket.pause();
        const rest = buf.subarray(out.consumed);
        if (rest.length) socket.unshift(rest);
        const a = out.addresses;
        resolve(a ? { ...local, srcAddress: unmap(a.srcAddress), srcPort: a.srcPort, dstAddress: unmap(a.dstAddress), dstPort: a.dstPort } : local);
      };
      socket.on("data", onData);
      socket.once("close", onClose);
      socket.resume();
    });
  }
}
