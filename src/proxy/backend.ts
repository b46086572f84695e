// A backend at run time: servers, balancing, stickiness, queues, and the way to a server
// (Backend.open: opening.ts) that both session handlers use.

import type { Clock } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { netTransport } from "../runtime/net_transport.ts";
import type { Transport } from "../runtime/transport.ts";
import type { ClientInfo } from "./accepted_client.ts";
import { createBalancer } from "./balance/index.ts";
import type { Balancer } from "./balance/index.ts";
import { noCheckPort } from "./config.ts";
import type { BackendConfig, HealthCheckConfig, ServerConfig } from "./config_types.ts";
import { ProxyError } from "./errors.ts";
import { HealthChecker } from "./health_check.ts";
import { initialHealth } from "./health_state.ts";
import type { HealthAction, HealthState } from "./health_state.ts";
import { backendRuntime } from "./http/runtime.ts";
import type { BackendRuntime } from "./http/runtime.ts";
import { IdlePool } from "./idle_pool.ts";
import { Opening } from "./opening.ts";
import type { OpenOptions, OpenWaiter } from "./opening.ts";
import { Server } from "./server.ts";
import type { ServerState, SlotWaiter } from "./server.ts";
import type { CancelSignal, Slot } from "./slot.ts";
import type { BackendStatus } from "./status.ts";
import { StickTable } from "./stick_table.ts";
import { weightProblem } from "./weight.ts";
import type { Waiter } from "./wait_queue.ts";
import { WaitQueue } from "./wait_queue.ts";

/** What a proxy worker process needs to mirror one server of the main process. */
export interface ServerSnapshot {
  health: HealthState;
  adminMaint: boolean | undefined;
  adminWeight: number | undefined;
}

const skipFull = (s: Server): boolean => s.full;

const sameCheck = (a?: HealthCheckConfig, b?: HealthCheckConfig) => JSON.stringify(a) === JSON.stringify(b);
const sameTarget = (a: ServerConfig, b: ServerConfig) => a.address === b.address && a.port === b.port && JSON.stringify(a.tls) === JSON.stringify(b.tls);

/** Run-time backend. Create with the config, start() to run health checks, update() on reload. */
export class Backend {
  config: BackendConfig;
  readonly servers = new Map<string, Server>();
  stick: StickTable | undefined;
  /** Connections holding a slot in this backend. */
  active = 0;
  /**
   * false in a proxy worker process: the main process runs the checks and pushes each server's
   * state (applyServerState).
   */
  checks = true;
  /**
   * Told when a stick entry is created or moves to another server (`changed`), or was refreshed
   * and last told longer ago than the table's announceEvery: workers and the pair link share them.
   */
  onStick: ((key: string, server: string, changed: boolean) => void) | undefined;
  /** Idle server connections kept for reuse (mode http, http_reuse). */
  readonly idle = new IdlePool();
  readonly transport: Transport;
  #http: BackendRuntime | undefined;
  #clock: Clock;
  #bus: EventBus;
  #log: Logger;
  #active!: Balancer<Server>;
  #backup!: Balancer<Server>;
  #queue = new WaitQueue<SlotWaiter>();
  #hadServer = true;
  #started = false;

  /** transport: how servers are reached (default node:net; see transportFor); the proxy subsystem passes its own. */
  constructor(config: BackendConfig, deps: { clock: Clock; bus: EventBus; log: Logger; transport?: Transport }) {
    this.config = config;
    this.transport = deps.transport ?? netTransport;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#makeBalancers();
    if (config.stick) this.stick = new StickTable({ size: config.stick.size, expire: config.stick.expire, clock: this.#clock });
    for (const sc of config.servers) this.servers.set(sc.name, this.#makeServer(sc));
    this.#refresh();
  }

  get name(): string {
    return this.config.name;
  }

  /** What mode http needs of this backend's config (response rules, retry_on), built once per config. */
  get http(): BackendRuntime {
    return (this.#http ??= backendRuntime(this.config, this.#log));
  }

  /** Starts health checks. */
  start(): void {
    this.#started = true;
    if (this.checks) for (const s of this.servers.values()) s.checker?.start();
  }

  /** Stops health checks and fails every queued waiter. Established connections are left alone. */
  stop(): void {
    this.#started = false;
    for (const s of this.servers.values()) {
      s.checker?.stop();
      for (const w of s.queue.drain()) w.value.fail(new ProxyError("E_NO_SERVER", `Backend "${this.name}" is stopping`));
    }
    for (const w of this.#queue.drain()) w.value.fail(new ProxyError("E_NO_SERVER", `Backend "${this.name}" is stopping`));
    this.idle.clear();
  }

  /**
   * Applies a reloaded config. Servers that still exist at the same address keep their object:
   * health, admin overrides, live connections and queue; their checker keeps running when the
   * check is unchanged. Removed servers stop checking; their connections run to their end.
   * Stick entries of removed servers are dropped, the others are kept.
   */
  update(config: BackendConfig): void {
    const old = this.config;
    this.config = config;
    this.#http = undefined;
    if (old.balance.algorithm !== config.balance.algorithm || old.balance.hash !== config.balance.hash) this.#makeBalancers();
    const next = new Map<string, Server>();
    for (const sc of config.servers) {
      const prev = this.servers.get(sc.name);
      if (prev && sameTarget(prev.config, sc)) {
        const checkChanged = !sameCheck(prev.config.check, sc.check);
        prev.config = sc;
        if (checkChanged) {
          prev.checker?.stop();
          const h = prev.health;
          prev.health = sc.check ? initialHealth(sc.check, h.up ? "up" : "down") : { up: true, health: 1 };
          this.#attachChecker(prev);
          if (this.#started && this.checks) (prev.checker as HealthChecker | undefined)?.start();
        }
        next.set(sc.name, prev);
      } else {
        prev?.checker?.stop();
        const s = this.#makeServer(sc);
        // A server that moved keeps its manual state and weight (runtime API, stats page).
        if (prev) [s.adminMaint, s.adminWeight] = [prev.adminMaint, prev.adminWeight];
        next.set(sc.name, s);
        if (this.#started && this.checks) s.checker?.start();
      }
    }
    for (const [name, s] of this.servers) {
      if (next.get(name) === s) continue;
      s.checker?.stop();
      this.#redistribute(s);
      if (!next.has(name)) this.stick?.deleteServer(name);
    }
    this.servers.clear();
    for (const [k, v] of next) this.servers.set(k, v);
    const st = config.stick;
    if (!st) this.stick = undefined;
    else if (!this.stick || this.stick.size !== st.size || this.stick.expire !== st.expire) {
      const table = new StickTable({ size: st.size, expire: st.expire, clock: this.#clock });
      if (this.stick) table.import(this.stick.entries());
      this.stick = table;
    }
    this.#refresh();
  }

  /** Admin: maintenance on/off or a new weight (0..256); carried over reloads. */
  setServer(name: string, change: { maint?: boolean; weight?: number }): void {
    const s = this.servers.get(name);
    if (!s) throw new ProxyError("E_CONFIG", `No server "${name}" in backend "${this.name}"`);
    const before = s.state;
    if (change.maint !== undefined) s.adminMaint = change.maint;
    if (change.weight !== undefined) {
      const problem = weightProblem(change.weight);
      if (problem) throw new ProxyError("E_CONFIG", problem);
      s.adminWeight = change.weight;
    }
    this.#announce(s, before, change.maint !== undefined ? (change.maint ? "set to maintenance" : "maintenance cleared") : `weight set to ${change.weight}`);
    this.#refresh();
  }

  /** State of one server, or undefined if the backend has none by that name. */
  serverState(name: string): ServerState | undefined {
    return this.servers.get(name)?.state;
  }

  /** Servers that can take new balanced traffic (active ones, or backups when no active is up). */
  usableCount(): number {
    let n = 0;
    for (const s of this.servers.values()) if (s.usable) n++;
    return n;
  }

  /**
   * Chooses a server for the client, without taking a slot: the stuck server first (a "drain"
   * server still gets its sticky clients; a down one only with `persist`), else the balancer over
   * usable active servers, else over usable backups. Full and excluded servers are skipped;
   * `full: true` means candidates exist but all are full (the caller queues).
   */
  select(client: ClientInfo, exclude?: ReadonlySet<Server>, persist?: Server): { server?: Server; sticky: boolean; full: boolean } {
    // A persistence cookie (http/cookie_persistence.ts) names the server first.
    if (persist && this.servers.get(persist.name) === persist && !persist.maint && !exclude?.has(persist) && (persist.up || this.config.persist)) {
      return { server: persist, sticky: true, full: false };
    }
    if (this.stick && this.config.stick?.on === "src") {
      const name = this.stick.lookup(client.srcAddress);
      const s = name !== undefined ? this.servers.get(name) : undefined;
      if (s && !s.maint && !exclude?.has(s) && (s.up || this.config.persist)) return { server: s, sticky: true, full: false };
    }
    const skip = exclude?.size ? (s: Server) => s.full || exclude.has(s) : skipFull;
    const useBackups = !this.#hasUsableActive();
    const lb = useBackups ? this.#backup : this.#active;
    // Only `source` hashes the client address: others do not make us read it (getpeername).
    const server = lb.pick(lb.algorithm === "source" ? client.srcAddress : "", skip);
    if (server) return { server, sticky: false, full: false };
    // Nothing picked: either every candidate is full (queue) or there is none left.
    const candidates = [...this.servers.values()].filter((s) => s.usable && s.config.backup === useBackups);
    const full = candidates.some((s) => s.full && !exclude?.has(s));
    return { sticky: false, full };
  }

  /**
   * Takes a connection slot: on the selected server at once, or after waiting in its queue (when a
   * stuck server is full) or in the backend queue (all full, or backend maxconn reached), for at
   * most `timeout queue`. `prefer` pins a server (a retry on the same server). A slot that is free
   * at once comes back as it is (no promise, no microtask); a queued one as a promise, which
   * rejects with ProxyError E_NO_SERVER, E_QUEUE_TIMEOUT or E_ABORTED.
   */
  slotFor(client: ClientInfo, options: { exclude?: ReadonlySet<Server>; prefer?: Server; persist?: Server; signal?: CancelSignal } = {}): Slot | Promise<Slot> {
    if (options.signal?.aborted) return Promise.reject(new ProxyError("E_ABORTED", "Client aborted"));
    let server = options.prefer && !options.prefer.maint && this.servers.get(options.prefer.name) === options.prefer ? options.prefer : undefined;
    let full = false;
    let sticky = server !== undefined;
    if (!server) {
      let pick = this.select(client, options.exclude, options.persist);
      // Every candidate already tried: redispatch may go back to one rather than fail.
      if (!pick.server && !pick.full && options.exclude?.size) pick = this.select(client);
      server = pick.server;
      full = pick.full;
      sticky = pick.sticky;
    }
    if (!server && !full) {
      this.#noServer();
      return Promise.reject(new ProxyError("E_NO_SERVER", `No server available in backend "${this.name}"`));
    }
    const backendFull = this.config.maxconn !== undefined && this.config.maxconn > 0 && this.active >= this.config.maxconn;
    if (server && !server.full && !backendFull) return this.#take(server, 0);
    const queue = server && sticky && !backendFull ? server.queue : this.#queue;
    return this.#enqueue(queue, options.signal);
  }

  /**
   * A server connection for client, the one way both modes take: a slot, a pooled connection
   * (options.reuse) or a new one, with haproxy's retry rules (opening.ts). On success the stick
   * entry is stored/updated. The waiter is told exactly once; cancel() gives up.
   */
  open(client: ClientInfo, options: OpenOptions, waiter: OpenWaiter): Opening {
    const o = new Opening(this, client, options, waiter, this.#clock, this.#log);
    o.next();
    return o;
  }

  /** Records that the client now sticks to server (stick on src). */
  stickStore(client: ClientInfo, server: Server): void {
    if (!this.stick || this.config.stick?.on !== "src") return;
    const changed = this.stick.store(client.srcAddress, server.name);
    if (this.onStick && this.stick.announce(client.srcAddress, changed)) this.onStick(client.srcAddress, server.name, changed);
  }

  /** A server's state as another process sees it: health, manual maintenance and weight. */
  serverSnapshot(name: string): ServerSnapshot | undefined {
    const s = this.servers.get(name);
    return s && { health: s.health, adminMaint: s.adminMaint, adminWeight: s.adminWeight };
  }

  /**
   * Takes a server's state from the process that runs the checks (proxy workers): same effects
   * as a local check result or admin change (events, redistribution, shutdown_sessions).
   */
  applyServerState(name: string, snap: ServerSnapshot): void {
    const s = this.servers.get(name);
    if (!s) return;
    const before = s.state;
    const wasUp = s.health.up;
    s.adminMaint = snap.adminMaint;
    s.adminWeight = snap.adminWeight;
    if (wasUp !== snap.health.up) {
      const reason = snap.health.last?.detail ?? "state from the main process";
      this.#onHealth(s, snap.health.up ? { type: "went_up", reason } : { type: "went_down", reason, status: snap.health.last?.status ?? "L4CON" }, snap.health);
      return;
    }
    s.health = snap.health;
    this.#announce(s, before, "state from the main process");
    this.#refresh();
  }

  /** A snapshot for stats and the admin socket. */
  status(): BackendStatus {
    return {
      name: this.name,
      active: this.active,
      queued: this.#queue.length,
      stickEntries: this.stick?.length ?? 0,
      servers: [...this.servers.values()].map((s) => ({
        name: s.name,
        address: s.label,
        state: s.state,
        weight: s.weight,
        backup: s.config.backup,
        active: s.active,
        total: s.total,
        queued: s.queue.length,
        check: s.health.last ? `${s.health.last.status} ${s.health.last.detail}` : undefined,
        // For the stats page and metrics (src/admin/snapshot.ts).
        maxActive: s.maxActive,
        maxconn: s.config.maxconn,
        bytesIn: s.sockets.bytesWritten(),
        bytesOut: s.sockets.bytesRead(),
        connectErrors: s.connectErrors,
        lastChange: s.lastChange,
        downs: s.downs,
        checked: s.checker !== undefined,
        lastCheck: s.checker?.state.last ?? s.health.last,
        checks: s.checker?.checks ?? 0,
        checkFailures: s.checker?.failures ?? 0,
      })),
    };
  }

  #makeBalancers(): void {
    const o = { hash: this.config.balance.hash };
    this.#active = createBalancer<Server>(this.config.balance.algorithm, o);
    this.#backup = createBalancer<Server>(this.config.balance.algorithm, o);
  }

  #makeServer(sc: ServerConfig): Server {
    const s = new Server(sc, sc.check ? initialHealth(sc.check, sc.initState) : { up: true, health: 1 });
    s.lastChange = this.#clock.wallNow();
    this.#attachChecker(s);
    return s;
  }

  /**
   * How server is reached. TLS toward a server runs node:tls over the connected socket, which needs
   * a net.Socket under it: a server with tls: is dialed through node:net, the others through the
   * backend's transport (the data path global.data_path chose).
   */
  transportFor(server: Server): Transport {
    return server.config.tls ? netTransport : this.transport;
  }

  #attachChecker(s: Server): void {
    s.checker = undefined;
    const check = s.config.check;
    if (!check) return;
    const port = check.port ?? s.config.port;
    if (port === undefined) throw new ProxyError("E_CONFIG", noCheckPort(s.name, this.name));
    s.checker = new HealthChecker({
      target: { host: check.address ?? s.config.address, port, tls: s.config.tls },
      check,
      clock: this.#clock,
      initial: s.health,
      onTransition: (action, state) => this.#onHealth(s, action, state),
      transport: this.transportFor(s),
    });
  }

  #onHealth(s: Server, action: HealthAction, state: HealthState): void {
    if (this.servers.get(s.name) !== s) return; // removed by a reload
    const before = s.state;
    s.health = state;
    if (action.type === "went_down") {
      this.#log.warn(`Server ${this.name}/${s.name} is DOWN: ${action.reason}`, { backend: this.name, server: s.name, active: s.active });
      this.#bus.emit("server.down", { proxy: this.name, server: s.name, reason: action.reason, check: action.status });
      this.#redistribute(s);
      if (this.config.onMarkedDown === "shutdown_sessions") for (const sock of s.sockets) sock.destroy();
    } else {
      this.#log.info(`Server ${this.name}/${s.name} is UP: ${action.reason}`, { backend: this.name, server: s.name });
      this.#bus.emit("server.up", { proxy: this.name, server: s.name, reason: action.reason });
    }
    this.#announce(s, before, action.reason);
    this.#refresh();
  }

  #announce(s: Server, before: ServerState, reason: string): void {
    const state = s.state;
    if (state === before) return;
    s.lastChange = this.#clock.wallNow();
    if (state === "down") s.downs++;
    this.#bus.emit("server.state", { proxy: this.name, server: s.name, state, previous: before, reason });
  }

  /** Whether an active (non-backup) server is usable; kept by #refresh, which every state change runs. */
  #usableActive = false;

  #hasUsableActive(): boolean {
    return this.#usableActive;
  }

  /** Rebuilds balancer candidate sets and serves queues that a state change may unblock. */
  #refresh(): void {
    const all = [...this.servers.values()].filter((s) => s.usable);
    this.#usableActive = all.some((s) => !s.config.backup);
    this.#active.update(all.filter((s) => !s.config.backup));
    this.#backup.update(all.filter((s) => s.config.backup));
    const has = all.length > 0;
    if (!has && this.#hadServer) this.#noServer();
    this.#hadServer = has;
    for (const s of this.servers.values()) this.#dequeue(s);
    if (!has) for (const w of this.#queue.drain()) w.value.fail(new ProxyError("E_NO_SERVER", `No server available in backend "${this.name}"`));
  }

  #noServer(): void {
    if (!this.#hadServer) return;
    this.#hadServer = false;
    this.#log.error(`Backend "${this.name}" has no server available`, { backend: this.name });
    this.#bus.emit("proxy.no_server", { proxy: this.name });
  }

  /** A server that went down or away hands its queue to the backend queue (haproxy pendconn_redistribute). */
  #redistribute(s: Server): void {
    for (const w of s.queue.drain()) {
      const moved = this.#queue.push(w.value, w.enqueuedAt);
      void moved;
    }
  }

  #take(server: Server, queued: number): Slot {
    server.active++;
    if (server.active > server.maxActive) server.maxActive = server.active;
    server.total++;
    this.active++;
    let released = false;
    return {
      server,
      queued,
      release: () => {
        if (released) return;
        released = true;
        server.active--;
        this.active--;
        this.#dequeue(server);
      },
    };
  }

  #enqueue(queue: WaitQueue<SlotWaiter>, signal?: CancelSignal): Promise<Slot> {
    const now = this.#clock.now();
    // haproxy: an unset `timeout queue` takes the value of `timeout connect`.
    const limit = this.config.timeouts.queue || this.config.timeouts.connect || 5000;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        timer.cancel();
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        cleanup();
        queue.cancel(waiter);
        reject(new ProxyError("E_ABORTED", "Client aborted while queued"));
      };
      const timer = this.#clock.setTimeout(() => {
        cleanup();
        queue.cancel(waiter);
        reject(new ProxyError("E_QUEUE_TIMEOUT", `Waited ${limit}ms in the queue of backend "${this.name}" without a free server`));
      }, limit);
      signal?.addEventListener("abort", onAbort, { once: true });
      // The callbacks above run later, never before push() returns.
      const waiter: Waiter<SlotWaiter> = queue.push(
        {
          grant: (server) => {
            cleanup();
            resolve(this.#take(server, this.#clock.now() - now));
          },
          fail: (err) => {
            cleanup();
            reject(err);
          },
        },
        now,
      );
    });
  }

  /** Gives a server's free slots to the oldest waiter of its own queue or the backend queue. */
  #dequeue(server: Server): void {
    if (server.queue.length === 0 && this.#queue.length === 0) return; // nobody waits: the usual case
    if (this.servers.get(server.name) !== server) return;
    while (!server.full && !server.maint && (server.up || this.config.persist)) {
      if (this.config.maxconn !== undefined && this.config.maxconn > 0 && this.active >= this.config.maxconn) return;
      const own = server.queue.peek();
      // Backend-queue waiters only go to servers the balancer would use now.
      const shared = server.usable && (!server.config.backup || !this.#hasUsableActive()) ? this.#queue.peek() : undefined;
      const w = own && (!shared || own.enqueuedAt <= shared.enqueuedAt) ? server.queue.shift() : shared ? this.#queue.shift() : undefined;
      if (!w) return;
      w.value.grant(server);
    }
  }
}
