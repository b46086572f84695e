// The proxy subsystem: builds backends, frontends and listeners from the config; hitless reload.

import { Diagnostics } from "../config/diagnostics.ts";
import { TandemError } from "../core/errors.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import { transportFor } from "../runtime/ffi_transport.ts";
import { netTransport } from "../runtime/net_transport.ts";
import type { Conn, Transport } from "../runtime/transport.ts";
import { Backend } from "./backend.ts";
import { checkProxyConfig, frontendBinds } from "./config.ts";
import type { Where } from "./config.ts";
import type { BackendConfig, FrontendConfig, ListenAddress, Mode, ProxySubsystemConfig } from "./config_types.ts";
import { ProxyError } from "./errors.ts";
import { Frontend, GlobalLimit } from "./frontend.ts";
import { acceptorsFor, Listener, listenerKey } from "./listener.ts";
import type { ServerState } from "./server.ts";
import type { SessionHandler, SessionHandlers } from "./session.ts";
import type { ListenerStatus, ProxyStatus } from "./status.ts";
import { tcpSession } from "./tcp_session.ts";
import { weightProblem } from "./weight.ts";
import { WorkerPool } from "./workers.ts";
import { StickSharing } from "./stick_sharing.ts";
import type { SharedStickEntry, StickApplyResult, StickReader, StickWatcher } from "./stick_sharing.ts";
import { TlsTerminator } from "../tls/terminator.ts";
import { challenges } from "../acme/challenges.ts";
import { acmeChallengeDir } from "../acme/paths.ts";
import type { H2Runner } from "../tls/terminator.ts";
import { LocalServices } from "./http/request_env.ts";
import type { LocalService } from "./http/request_env.ts";
import { StickTable } from "./stick_table.ts";

/** Session handlers by mode; http mode registers here (src/proxy/http/). */
export const DEFAULT_HANDLERS: SessionHandlers = { tcp: tcpSession };

export interface ProxySubsystemOptions {
  /** Overrides/extends DEFAULT_HANDLERS (tests, http mode). */
  handlers?: SessionHandlers;
  /** Set in a proxy worker process (worker_main.ts): no health checks, stick entries shared. */
  worker?: WorkerSide;
  /** How connections are accepted and made (default: the one global.data_path names). */
  transport?: Transport;
  /** Serves HTTP/2 connections of TLS binds (ALPN h2): src/proxy/h2/. */
  h2?: H2Runner;
}

/** The hooks a proxy worker process gives its subsystem and gets back. */
export interface WorkerSide {
  /** A stick entry was made (changed) or refreshed here: tell the main process. */
  onStick(proxy: string, key: string, server: string, changed: boolean): void;
  /** Receives the lookup the worker runtime uses to apply server states and stick entries. */
  attach(api: { backend(name: string): Backend | undefined }): void;
}

/** What the proxy offers the other subsystems (ctx.services.proxy). */
export interface ProxyService {
  status(): ProxyStatus;
  serverState(proxy: string, server: string): ServerState | undefined;
  /**
   * True when the proxy is fit to carry traffic: the listeners of the named proxies (default:
   * all) bound, and each backend with minServers servers up — a number for every backend (0:
   * alive and listening is enough), or per backend (the others need 0).
   */
  healthy(proxies?: string[], minServers?: number | Record<string, number>): { healthy: boolean; reason: string };
  /**
   * Admin (runtime API, stats page): manual state and/or weight of one server, carried over
   * reloads. "ready" clears maint and drain. Throws TandemError E_NO_SUCH_SERVER / E_RANGE.
   */
  setServer(proxy: string, server: string, change: { state?: "ready" | "drain" | "maint"; weight?: number }): void;
  /** Admin: the stick table of a backend (undefined: no such backend or no table). */
  stickTable(proxy: string): { key: string; server: string; expiresIn: number }[] | undefined;
  /** Admin: empties a backend's stick table; returns the entries removed (undefined: no table). */
  clearStickTable(proxy: string): number | undefined;
  /**
   * Lends the proxy a service by name (the admin layer's stats page, for `stats` rules of
   * frontends); undefined removes it.
   */
  provide(name: string, service: LocalService | undefined): void;
  /** Pair link: told of every stick entry made or refreshed here or in a worker; returns the unsubscribe. */
  watchStick(fn: StickWatcher): () => void;
  /** Pair link: stores the peer's entries (servers by name, remaining lifetime) here and in the workers. */
  applyStick(proxy: string, entries: readonly SharedStickEntry[]): StickApplyResult;
  /** Pair link: a table's entries, all (a full resync) or those of `keys` (undefined: no such backend or no table). */
  stickReader(proxy: string, keys?: readonly string[]): StickReader | undefined;
  /** Backends with a stick table. */
  stickTables(): string[];
  /**
   * Closes every client connection accepted on one of these local addresses (a VIP that left this
   * host), here and in the workers, so clients reconnect to the new holder. Returns how many here.
   */
  closeAccepted(addresses: readonly string[]): number;
}

declare module "../core/subsystem.ts" {
  interface Services {
    proxy?: ProxyService;
  }
}

/** Where each listener points: frontend and the bind options of the line that declared it. */
interface Route {
  frontend: Frontend;
  bind: ListenAddress;
}

/** Checks what the engine needs beyond the schema; returns messages (empty = fine). */
export function validateProxyConfig(config: ProxySubsystemConfig, handlers: SessionHandlers): string[] {
  const diag = new Diagnostics();
  for (const f of config.frontends) if (!handlers[f.mode]) diag.error([], `Frontend "${f.name}": mode ${f.mode} is not available in this build`);
  // The config section's own checks, for configs that did not come through the loader.
  const where: Where = (kind, name) => [kind, name];
  checkProxyConfig(config, where, diag);
  frontendBinds(config.frontends, diag);
  return diag.items.filter((d) => d.severity === "error").map((d) => (d.path.length ? `${d.path.slice(0, 2).join(" ")}: ` : "") + d.message);
}

/**
 * Creates the proxy subsystem and fills ctx.services.proxy.
 * start() binds every listener (a bind failure throws ProxyError E_BIND naming proxy and address;
 * an address not held yet is bound non-locally or waited for, see nonlocal_bind.ts).
 * reload() keeps unchanged listeners bound, binds new ones first (a failure leaves the old config
 * running and throws), closes removed ones (their connections run on), and carries server state
 * and stick entries over. stop() closes listeners and waits up to global.gracePeriod.
 */
export function createProxySubsystem(ctx: SubsystemContext<ProxySubsystemConfig>, options: ProxySubsystemOptions = {}): Subsystem<ProxySubsystemConfig> {
  const handlers: SessionHandlers = { ...DEFAULT_HANDLERS, ...options.handlers };
  const log = ctx.log.child("proxy");
  let config = ctx.config;
  // Read once: listeners and their connections keep the data path they were made with. A data path
  // that cannot run (data_path: ffi on Deno) fails start(), with the reason.
  const dataPath = config.global.dataPath ?? "auto";
  let transport: Transport = netTransport;
  let transportError: unknown = undefined;
  try {
    transport = options.transport ?? transportFor(dataPath, log);
  } catch (err) {
    transportError = err;
  }
  const limit = new GlobalLimit(config.global.maxconn);
  let backends = new Map<string, Backend>();
  let frontends = new Map<string, Frontend>();
  const listeners = new Map<string, Listener>();
  const routes = new Map<string, Route>();
  /** Frontends replaced or removed by a reload, still running sessions. */
  const retired = new Set<Frontend>();
  const lastHealth = new Map<string, boolean>();
  const tls = new TlsTerminator({ log: log.child("tls"), bus: ctx.bus, clock: ctx.clock, h2: options.h2 });
  const services = new LocalServices();
  /** Each frontend's counters table (counters:), by name: kept across reloads like a backend's stick table. */
  const counterTables = new Map<string, StickTable>();
  const countersFor = (fc: FrontendConfig): StickTable | undefined => {
    const c = fc.counters;
    if (!c) return undefined;
    const spec = { httpReqRate: c.httpReqRate, connRate: c.connRate, httpErrRate: c.httpErrRate, connCur: c.connCur };
    const old = counterTables.get(fc.name);
    if (old && old.size === c.size && old.expire === c.expire && JSON.stringify(old.counterSpec) === JSON.stringify(spec)) return old;
    const table = new StickTable({ size: c.size, expire: c.expire, clock: ctx.clock, counters: spec });
    if (old && JSON.stringify(old.counterSpec) === JSON.stringify(spec)) table.import(old.entries());
    counterTables.set(fc.name, table);
    return table;
  };

  const onConnection = (key: string) => (socket: Conn) => {
    const r = routes.get(key);
    if (!r) return socket.destroy();
    r.frontend.accept(socket, r.bind);
  };

  const handlerFor = (mode: Mode): SessionHandler => {
    const h = handlers[mode];
    if (!h) throw new ProxyError("E_CONFIG", `Mode ${mode} is not available in this build`);
    return h;
  };

  /** The built-in tcp session and handlers marked readsChunks read through a ChunkReader; others and PROXY headers need 'data'. */
  const readsThroughReader = (r: Route) => (r.frontend.handler === tcpSession || r.frontend.handler.readsChunks === true) && !r.bind.acceptProxy && !r.bind.tls;

  const check = (cfg: ProxySubsystemConfig) => {
    const errors = validateProxyConfig(cfg, handlers);
    if (errors.length) throw new ProxyError("E_CONFIG", `Invalid proxy config: ${errors.join("; ")}`);
  };

  const desiredRoutes = (fronts: Map<string, Frontend>) => {
    const out = new Map<string, { route: Route; host: string; port: number }>();
    for (const f of fronts.values()) {
      for (const bind of f.config.binds) for (const port of bind.ports) out.set(listenerKey(bind.host, port), { route: { frontend: f, bind }, host: bind.host, port });
    }
    return out;
  };

  /**
   * The transport a bind accepts through: TLS termination (src/tls/) wraps the accepted socket in
   * node:tls, which needs a net.Socket under it, so TLS binds keep node:net; their connections to
   * servers, and every other bind, use the data path global.data_path chose.
   */
  const listenTransport = (bind: ListenAddress): Transport => (bind.tls ? netTransport : transport);

  const bindNew = async (wanted: Map<string, { route: Route; host: string; port: number }>): Promise<Listener[]> => {
    const created: Listener[] = [];
    try {
      for (const [key, w] of wanted) {
        if (listeners.has(key)) continue;
        const l = new Listener({ host: w.host, port: w.port, proxy: w.route.frontend.name, transport: listenTransport(w.route.bind), clock: ctx.clock, log, onConnection: onConnection(key), reusePort: workers > 1, acceptors: acceptorsFor(wanted.size) });
        created.push(l);
        await l.bind(
          (reason) => ctx.bus.emit("listener.failed", { proxy: l.proxy, address: key, reason }),
          () => {
            ctx.bus.emit("listener.bound", { proxy: l.proxy, address: key });
            publishHealth();
          },
        );
        if (l.bound) ctx.bus.emit("listener.bound", { proxy: l.proxy, address: key });
      }
    } catch (err) {
      await Promise.all(created.map((l) => l.close()));
      throw err;
    }
    return created;
  };

  const buildFrontends = (cfg: ProxySubsystemConfig, bks: Map<string, Backend>) => {
    const out = new Map<string, Frontend>();
    for (const fc of cfg.frontends) {
      const inner = handlerFor(fc.mode);
      let handler = inner;
      if (fc.binds.some((b) => b.tls)) {
        // TLS binds terminate first (src/tls/); plain binds of the same frontend keep the reader.
        handler = tls.wrap(inner);
        handler.readsChunks = inner === tcpSession || inner.readsChunks === true;
      }
      out.set(fc.name, new Frontend(fc, { backends: bks, handler, limit, clock: ctx.clock, bus: ctx.bus, log: log.child(fc.name), counters: countersFor(fc), services }));
    }
    return out;
  };

  const retire = (f: Frontend) => {
    retired.add(f);
    // Kept-alive HTTP clients of the old config move to the new one after their next response.
    f.retire();
    void f.drained().then(() => {
      retired.delete(f);
      f.detach();
    });
  };

  const healthy = (proxies?: string[], minServers: number | Record<string, number> = 1): { healthy: boolean; reason: string } => {
    const names = proxies ?? [...new Set([...frontends.keys(), ...backends.keys()])];
    for (const name of names) {
      const f = frontends.get(name);
      const b = backends.get(name);
      if (!f && !b) return { healthy: false, reason: `no proxy named "${name}"` };
      if (f) {
        for (const bind of f.config.binds) {
          for (const port of bind.ports) {
            const l = listeners.get(listenerKey(bind.host, port));
            if (!l?.bound) return { healthy: false, reason: `"${name}" is not listening on ${listenerKey(bind.host, port)}` };
          }
        }
      }
      const need = typeof minServers === "number" ? minServers : (minServers[name] ?? 0);
      if (b && b.usableCount() < need) return { healthy: false, reason: `"${name}" has ${b.usableCount()} server(s) up, needs ${need}` };
    }
    return { healthy: true, reason: minServers === 0 ? "alive, all listeners bound" : "all listeners bound, servers up" };
  };

  const publishHealth = () => {
    for (const name of new Set([...frontends.keys(), ...backends.keys()])) {
      const h = healthy([name]);
      if (lastHealth.get(name) !== h.healthy) {
        lastHealth.set(name, h.healthy);
        ctx.bus.emit("proxy.health", { proxy: name, healthy: h.healthy, reason: h.reason });
      }
    }
  };
  const unsubscribe = [ctx.bus.on("server.state", publishHealth), ctx.bus.on("proxy.no_server", publishHealth)];
  // A certificate issued by ACME (src/acme/) is served from the next handshake on, here and in the workers.
  unsubscribe.push(ctx.bus.on("acme.installed", () => {
    for (const e of tls.load(config)) log.error(e.message);
    void pool?.reload(config);
  }));

  // global.workers > 1: this process serves too, plus workers - 1 processes (workers.ts). The
  // count is read at start; a reload that changes it is logged and needs a restart.
  const workers = Math.max(1, config.global.workers);
  const sharing = new StickSharing({ backends: () => backends, clock: ctx.clock, worker: options.worker });
  const pool = workers > 1 && !options.worker ? new WorkerPool({ count: workers - 1, config, log, backends: () => backends, onStick: (p, k, s) => sharing.tell(p, k, s) }) : undefined;
  sharing.pool = pool;
  if (pool) unsubscribe.push(ctx.bus.on("server.state", (e) => pool.pushServer(e.proxy, e.server)));
  options.worker?.attach({ backend: (name) => backends.get(name) });
  const makeBackend = (bc: BackendConfig) => {
    const b = new Backend(bc, { clock: ctx.clock, bus: ctx.bus, log: log.child(bc.name), transport });
    if (options.worker) b.checks = false;
    sharing.wire(b);
    return b;
  };

  const localStatus = (): ProxyStatus => ({
    connections: limit.active,
    maxconn: limit.max,
    frontends: [...frontends.values()].map((f) => ({
      name: f.name,
      mode: f.config.mode,
      active: f.active,
      total: f.total,
      held: f.held,
      bytesIn: f.sockets.bytesRead(),
      bytesOut: f.sockets.bytesWritten(),
      listeners: f.config.binds.flatMap((b) => b.ports.map((p) => {
        const l = listeners.get(listenerKey(b.host, p));
        return { address: listenerKey(b.host, p), bound: l?.bound ?? false, waiting: l?.waiting } satisfies ListenerStatus;
      })),
    })),
    backends: [...backends.values()].map((b) => b.status()),
    tls: tls.status(),
  });
  const status = () => {
    const st = localStatus();
    pool?.addInto(st);
    return st;
  };

  const backendOf = (proxy: string, server?: string): Backend => {
    const b = backends.get(proxy);
    if (!b || (server !== undefined && !b.servers.has(server))) {
      throw new TandemError("E_NO_SUCH_SERVER", server === undefined ? `No backend "${proxy}"` : `No server "${server}" in backend "${proxy}"`);
    }
    return b;
  };

  ctx.services.proxy = {
    status,
    serverState: (proxy, server) => backends.get(proxy)?.serverState(server),
    healthy,
    setServer(proxy, server, change) {
      const b = backendOf(proxy, server);
      const problem = change.weight === undefined ? undefined : weightProblem(change.weight);
      if (problem) throw new TandemError("E_RANGE", problem);
      const s = b.servers.get(server)!;
      // "ready" clears maint and an admin drain; "drain" is weight 0 (sticky clients still come).
      if (change.state === "ready") b.setServer(server, { maint: false, weight: change.weight ?? (s.adminWeight === 0 ? s.config.weight : s.weight) });
      else if (change.state === "drain") b.setServer(server, { maint: false, weight: 0 });
      else if (change.state === "maint") b.setServer(server, { maint: true, ...(change.weight !== undefined ? { weight: change.weight } : {}) });
      else if (change.weight !== undefined) b.setServer(server, { weight: change.weight });
    },
    stickTable(proxy) {
      const t = backends.get(proxy)?.stick;
      if (!t) return undefined;
      const now = ctx.clock.now();
      return t.entries().map((e) => ({ key: e.key, server: e.server ?? "", expiresIn: Math.max(0, Math.round(e.expiresAt - now)) }));
    },
    provide: (name, service) => services.set(name, service),
    clearStickTable(proxy) {
      const t = backends.get(proxy)?.stick;
      if (!t) return undefined;
      const n = t.length;
      t.clear();
      pool?.clearStick(proxy);
      return n;
    },
    watchStick: (fn) => sharing.watch(fn),
    applyStick: (proxy, entries) => sharing.apply(proxy, entries),
    stickReader: (proxy, keys) => sharing.reader(proxy, keys),
    stickTables: () => [...backends.values()].filter((b) => b.stick).map((b) => b.name),
    closeAccepted(addresses) {
      const wanted = new Set(addresses);
      let n = 0;
      for (const f of new Set([...frontends.values(), ...retired])) n += f.closeAcceptedOn(wanted);
      pool?.closeAccepted(addresses);
      return n;
    },
  };

  return {
    name: "proxy",

    async start() {
      if (transportError !== undefined) throw transportError;
      check(config);
      // HTTP-01 tokens are shared through state_dir (src/acme/), so proxy worker processes answer them too.
      challenges.useDirectory(acmeChallengeDir(config.global.stateDir));
      const certErrors = tls.load(config);
      if (certErrors.length) throw new ProxyError("E_CONFIG", certErrors.map((e) => e.message).join("; "));
      backends = new Map(config.backends.map((bc) => [bc.name, makeBackend(bc)]));
      frontends = buildFrontends(config, backends);
      const wanted = desiredRoutes(frontends);
      for (const [key, w] of wanted) routes.set(key, w.route);
      const created = await bindNew(wanted);
      for (const l of created) listeners.set(l.key, l);
      for (const [key, w] of wanted) listeners.get(key)!.readers = readsThroughReader(w.route);
      for (const b of backends.values()) b.start();
      if (pool) {
        try {
          await pool.start();
        } catch (err) {
          await pool.stop("start failed", 0);
          for (const l of listeners.values()) await l.close();
          for (const b of backends.values()) b.stop();
          throw new ProxyError("E_WORKER", `Cannot start the proxy workers: ${(err as Error).message}`, { cause: err });
        }
      }
      tls.startWatch();
      log.info(`Proxy started: ${frontends.size} frontend(s), ${backends.size} backend(s), ${listeners.size} listener(s), data path ${transport.name}`);
      publishHealth();
    },

    async reload(next) {
      check(next);
      // Certificates are re-read at every reload (renewed files are served from the next handshake).
      for (const e of tls.load(next)) log.error(`${e.message}: the bind keeps serving the certificates that loaded`);
      challenges.useDirectory(acmeChallengeDir(next.global.stateDir));
      // 1. Backends: update those that stay (state carries over), build new ones.
      const nextBackends = new Map<string, Backend>();
      const fresh: Backend[] = [];
      for (const bc of next.backends) {
        const old = backends.get(bc.name);
        if (!old) {
          const b = makeBackend(bc);
          fresh.push(b);
          nextBackends.set(bc.name, b);
        } else nextBackends.set(bc.name, old);
      }
      // 2. Frontends are cheap: always new objects, so sessions keep the config they started with.
      const nextFrontends = buildFrontends(next, nextBackends);
      const wanted = desiredRoutes(nextFrontends);
      // A bind that turned TLS on or off accepts through the other transport: it is bound again
      // (a moment without a listener on that address; both cannot hold it at once).
      for (const [key, w] of wanted) {
        const l = listeners.get(key);
        if (l === undefined || l.transport === listenTransport(w.route.bind)) continue;
        listeners.delete(key);
        await l.close();
      }
      let created: Listener[];
      try {
        created = await bindNew(wanted);
      } catch (err) {
        for (const f of nextFrontends.values()) f.detach();
        throw err;
      }
      // 3. Commit: nothing below can fail.
      for (const bc of next.backends) backends.get(bc.name)?.update(bc);
      for (const [name, b] of backends) if (!nextBackends.has(name)) b.stop();
      for (const b of fresh) b.start();
      for (const l of created) listeners.set(l.key, l);
      routes.clear();
      for (const [key, w] of wanted) {
        routes.set(key, w.route);
        const l = listeners.get(key);
        if (l) {
          l.proxy = w.route.frontend.name;
          l.readers = readsThroughReader(w.route);
        }
      }
      const closing: Promise<void>[] = [];
      for (const [key, l] of listeners) {
        if (wanted.has(key)) continue;
        listeners.delete(key);
        closing.push(l.close());
      }
      await Promise.all(closing);
      for (const f of frontends.values()) retire(f);
      frontends = nextFrontends;
      backends = nextBackends;
      for (const name of counterTables.keys()) if (!next.frontends.some((f) => f.name === name && f.counters)) counterTables.delete(name);
      config = next;
      limit.max = next.global.maxconn;
      limit.wake();
      if (next.global.workers !== workers && !options.worker) log.warn(`global.workers changed to ${next.global.workers}: takes effect at the next start (running ${workers})`);
      if ((next.global.dataPath ?? "auto") !== dataPath && !options.worker) log.warn(`global.data_path changed to ${next.global.dataPath}: takes effect at the next start (running ${transport.name})`);
      await pool?.reload(next);
      log.info(`Proxy reloaded: ${frontends.size} frontend(s), ${backends.size} backend(s), ${listeners.size} listener(s), ${closing.length} closed, ${created.length} new`);
      publishHealth();
    },

    async stop(reason) {
      log.info(`Proxy stopping: ${reason}`);
      tls.stopWatch();
      for (const u of unsubscribe) u();
      await Promise.all([...listeners.values()].map((l) => l.close()));
      listeners.clear();
      const stoppingWorkers = pool?.stop(reason, config.global.gracePeriod);
      for (const b of backends.values()) b.stop();
      const all = [...frontends.values(), ...retired];
      for (const f of all) f.beginStop();
      const grace = config.global.gracePeriod;
      let timer: { cancel(): void } | undefined;
      const expired = new Promise<boolean>((resolve) => {
        timer = ctx.clock.setTimeout(() => resolve(true), grace);
      });
      const finished = await Promise.race([Promise.all(all.map((f) => f.drained())).then(() => false), expired]);
      timer?.cancel();
      if (finished) {
        log.warn(`Grace period of ${grace}ms over: closing ${all.reduce((n, f) => n + f.active, 0)} connection(s)`);
        for (const f of all) f.killAll();
      }
      await stoppingWorkers;
    },
  };
}

