// Proxy worker processes (global.workers > 1): SO_REUSEPORT listeners in N processes, one health checker.

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Logger, LogFields } from "../core/log.ts";
import type { Backend, ServerSnapshot } from "./backend.ts";
import type { ProxySubsystemConfig } from "./config_types.ts";
import { enableQueuedMigration } from "./migrate_queued.ts";
import type { ProxyStatus } from "./status.ts";

/**
 * The main process runs the proxy like with one worker (it serves connections too) plus
 * `workers - 1` child processes of the same executable, each binding the same listeners with
 * SO_REUSEPORT so the kernel spreads connections. Children run no health checks: the main process
 * pushes every server state change. Stick entries created anywhere are sent to every process.
 * Children report their counters every second; the main process adds them up in status().
 * Processes, not worker_threads: a single executable can only run its bundled code as a process
 * (a thread would need the bundle's source as a file).
 */

/** Main → worker. */
export type ToWorker =
  | { type: "start"; index: number; config: ProxySubsystemConfig }
  | { type: "reload"; id: number; config: ProxySubsystemConfig }
  | { type: "stop"; reason: string }
  | { type: "server"; proxy: string; server: string; snap: ServerSnapshot }
  | { type: "stick"; proxy: string; key: string; server: string }
  /** Entries learned from the peer host (pair link), with their remaining lifetime in ms. */
  | { type: "sticks"; proxy: string; entries: [key: string, server: string, expiresIn: number][] }
  | { type: "stick_clear"; proxy: string }
  | { type: "close_accepted"; addresses: string[] };

/** Worker → main. */
export type FromWorker =
  | { type: "started" }
  | { type: "failed"; error: string }
  | { type: "reloaded"; id: number; error?: string }
  /** changed: a new entry or another server (shared with the other workers); else a refresh (for the pair link). */
  | { type: "stick"; proxy: string; key: string; server: string; changed: boolean }
  | { type: "status"; status: ProxyStatus }
  | { type: "log"; level: "info" | "warn" | "error"; sub: string; msg: string; fields?: LogFields };

/** The env switch the single executable's entry checks to run a worker instead of main. */
export const WORKER_ENV = "TANDEM_PROXY_WORKER";

function isSea(): boolean {
  try {
    return (createRequire(import.meta.url)("node:sea") as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

/** How to start this program as a proxy worker: the binary with the env switch, or worker_main.ts. */
function workerCommand(): { file: string; args: string[] } {
  if (isSea()) return { file: process.execPath, args: [] };
  const entry = fileURLToPath(new URL("./worker_main.ts", import.meta.url));
  // Under Deno, execPath is deno itself: it needs the subcommand and the permissions.
  return { file: process.execPath, args: "deno" in process.versions ? ["run", "-A", entry] : [entry] };
}

interface Child {
  index: number;
  proc: ChildProcess;
  status?: ProxyStatus;
  ready: boolean;
  /** When this process of the worker was spawned (Date.now()), for the restart backoff. */
  spawnedAt: number;
  /** Restarts in a row of a worker that died soon after starting (crash loop). */
  quickDeaths: number;
  /** Why the main process asked it to stop so it restarts (a reload it could not apply). */
  restartReason?: string;
}

/** A worker that lives shorter than this after a start counts as crash-looping: its restarts back off. */
const STABLE_MS = 10_000;
/** Longest wait before starting a crash-looping worker again. */
const MAX_RESTART_DELAY = 30_000;

/** The delay before starting a worker that died `quickDeaths` times in a row soon after a start: at once, then 1 s, 2 s, 4 s ... 30 s. */
export function restartDelay(quickDeaths: number): number {
  return quickDeaths <= 1 ? 0 : Math.min(MAX_RESTART_DELAY, 1000 * 2 ** (quickDeaths - 2));
}

/** The counters of a status that only grow (totals, bytes, errors); what is current now (active, queued) is 0. */
export function totalsOnly(st: ProxyStatus): ProxyStatus {
  return {
    ...st,
    connections: 0,
    frontends: st.frontends.map((f) => ({ ...f, active: 0, held: 0 })),
    backends: st.backends.map((b) => ({ ...b, active: 0, queued: 0, servers: b.servers.map((v) => ({ ...v, active: 0, queued: 0 })) })),
  };
}

/** a[k] += b[k] for each key that is a number on both sides (optional counters may be missing). */
function addCounters<T extends object>(a: T, b: T, keys: readonly (keyof T)[]): void {
  const x = a as Record<keyof T, unknown>, y = b as Record<keyof T, unknown>;
  for (const k of keys) if (typeof x[k] === "number" && typeof y[k] === "number") x[k] = x[k] + y[k];
}

/** Adds the counters of b into a (same names matched; b's unknown entries ignored). */
export function addStatus(a: ProxyStatus, b: ProxyStatus): void {
  a.connections += b.connections;
  for (const fb of b.frontends) {
    const fa = a.frontends.find((f) => f.name === fb.name);
    if (fa) addCounters(fa, fb, ["active", "total", "held", "bytesIn", "bytesOut"]);
  }
  for (const bb of b.backends) {
    const ba = a.backends.find((x) => x.name === bb.name);
    if (!ba) continue;
    ba.active += bb.active;
    ba.queued += bb.queued;
    for (const sb of bb.servers) {
      const sa = ba.servers.find((x) => x.name === sb.name);
      if (sa) addCounters(sa, sb, ["active", "total", "queued", "maxActive", "bytesIn", "bytesOut", "connectErrors"]);
    }
  }
}

/** The main process's side: spawns, feeds and stops the worker processes. */
export class WorkerPool {
  readonly #count: number;
  readonly #log: Logger;
  readonly #backends: () => ReadonlyMap<string, Backend>;
  readonly #onStick: ((proxy: string, key: string, server: string) => void) | undefined;
  readonly #children: Child[] = [];
  #config: ProxySubsystemConfig;
  #stopping = false;
  #reloadId = 0;
  /** The totals of worker processes that died, so summed counters never go down. */
  #gone: ProxyStatus | undefined;

  /** count: worker processes besides the main one; onStick: told of every stick entry a worker announces. */
  constructor(options: { count: number; config: ProxySubsystemConfig; log: Logger; backends: () => ReadonlyMap<string, Backend>; onStick?: (proxy: string, key: string, server: string) => void }) {
    this.#count = options.count;
    this.#onStick = options.onStick;
    this.#config = options.config;
    this.#log = options.log;
    this.#backends = options.backends;
  }

  /** Starts every worker and waits until each has bound its listeners; throws the first failure. */
  async start(): Promise<void> {
    enableQueuedMigration(this.#log);
    const all = [];
    for (let i = 1; i <= this.#count; i++) all.push(this.#spawn(i));
    await Promise.all(all);
  }

  /** Sends a reloaded config; resolves when every worker applied it (failures are logged). */
  async reload(config: ProxySubsystemConfig): Promise<void> {
    this.#config = config;
    if (this.#gone) this.#gone.frontends = []; // frontends' counters restart at a reload
    const id = ++this.#reloadId;
    await Promise.all(this.#children.filter((c) => c.ready).map((c) => new Promise<void>((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== "reloaded" || m.id !== id) return;
        c.proc.off("message", onMessage);
        if (m.error) {
          // The main process runs the new configuration: a worker left on the old one is
          // restarted, and starts with the new one (or keeps failing loudly).
          this.#log.error(`Proxy worker ${c.index} cannot apply the new configuration: ${m.error}; restarting it`);
          c.restartReason = "it could not apply a reload";
          this.#send(c, { type: "stop", reason: "reload failed" });
        }
        resolve();
      };
      c.proc.on("message", onMessage);
      c.proc.once("exit", () => resolve());
      this.#send(c, { type: "reload", id, config });
    })));
    this.pushAllServers();
  }

  /** Asks every worker to stop (each drains within the grace period), then waits for the exits. */
  async stop(reason: string, grace: number): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#children.map((c) => new Promise<void>((resolve) => {
      if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
      const t = setTimeout(() => c.proc.kill("SIGKILL"), grace + 2000);
      c.proc.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      this.#send(c, { type: "stop", reason });
    })));
  }

  /** A server changed state here (check or admin): every worker takes it over. */
  pushServer(proxy: string, server: string): void {
    const snap = this.#backends().get(proxy)?.serverSnapshot(server);
    if (snap) for (const c of this.#children) this.#send(c, { type: "server", proxy, server, snap });
  }

  pushAllServers(): void {
    for (const b of this.#backends().values()) for (const name of b.servers.keys()) this.pushServer(b.name, name);
  }

  /** A stick entry made here (or by worker `from`) goes to every other worker. */
  shareStick(proxy: string, key: string, server: string, from?: Child): void {
    for (const c of this.#children) if (c !== from) this.#send(c, { type: "stick", proxy, key, server });
  }

  /** Entries from the peer host go to every worker. */
  shareSticks(proxy: string, entries: [string, string, number][]): void {
    if (entries.length) for (const c of this.#children) this.#send(c, { type: "sticks", proxy, entries });
  }

  /** Every worker closes its client connections accepted on these addresses (a VIP that left). */
  closeAccepted(addresses: readonly string[]): void {
    for (const c of this.#children) this.#send(c, { type: "close_accepted", addresses: [...addresses] });
  }

  clearStick(proxy: string): void {
    for (const c of this.#children) this.#send(c, { type: "stick_clear", proxy });
  }

  /** Adds the workers' last reported counters into the main process's status. */
  /** Adds the workers' last reported counters into the main process's status (a dead worker: its totals only). */
  addInto(status: ProxyStatus): void {
    const accepted = (st: ProxyStatus) => st.frontends.reduce((n, f) => n + f.total, 0);
    status.workers = 1 + this.#children.filter((c) => c.ready).length;
    status.acceptedPerWorker = [accepted(status), ...this.#children.map((c) => (c.status ? accepted(c.status) : 0))];
    for (const c of this.#children) if (c.status) addStatus(status, c.status);
    if (this.#gone) addStatus(status, this.#gone);
  }

  /** Workers started again after they died (for the "started again" line). */
  readonly #restarted = new Set<number>();

  /**
   * A worker process ended. Its listeners closed with it: the kernel sends new connections to the
   * other processes at once (and, with tcp_migrate_req, those queued on its listeners); the
   * connections it had accepted are lost. Its live counters stop counting, its totals are kept,
   * and it is started again at once, or after a growing delay when it keeps dying young.
   */
  #exited(child: Child, code: number | null, signal: NodeJS.Signals | null, failStart: ((err: Error) => void) | undefined): void {
    const index = child.index;
    child.ready = false;
    if (child.status) {
      const totals = totalsOnly(child.status);
      if (this.#gone) addStatus(this.#gone, totals);
      else this.#gone = totals;
    }
    child.status = undefined;
    const how = signal ?? `exit code ${code}`;
    if (failStart) return failStart(new Error(`proxy worker ${index} exited (${how}) before it was ready`));
    if (this.#stopping) return;
    const quickDeaths = child.restartReason === undefined && Date.now() - child.spawnedAt < STABLE_MS ? child.quickDeaths + 1 : 0;
    const delay = restartDelay(quickDeaths);
    if (child.restartReason !== undefined) this.#log.info(`Proxy worker ${index} (pid ${child.proc.pid}) stopped because ${child.restartReason}: starting it again`);
    else this.#log.error(`Proxy worker ${index} (pid ${child.proc.pid}) died (${how}): new connections go to the other processes, the ones it held are lost; starting it again${delay ? ` in ${delay / 1000}s` : ""}`);
    this.#restarted.add(index);
    const restart = () => {
      if (!this.#stopping) this.#spawn(index, quickDeaths).catch((err) => this.#log.error(`Proxy worker ${index} did not start again: ${(err as Error).message}`));
    };
    if (delay === 0) restart();
    else setTimeout(restart, delay).unref();
  }

  #send(c: Child, m: ToWorker): void {
    if (c.proc.connected) c.proc.send(m, (err: Error | null) => void err);
  }

  #spawn(index: number, quickDeaths = 0): Promise<void> {
    const { file, args } = workerCommand();
    const proc = spawn(file, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, [WORKER_ENV]: "1" }, serialization: "advanced" });
    const child: Child = { index, proc, ready: false, spawnedAt: Date.now(), quickDeaths };
    const at = this.#children.findIndex((c) => c.index === index);
    if (at >= 0) this.#children[at] = child;
    else this.#children.push(child);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      proc.on("message", (m: FromWorker) => {
        switch (m.type) {
          case "started":
            child.ready = true;
            settled = true;
            if (this.#restarted.has(index)) this.#log.info(`Proxy worker ${index} started again (pid ${proc.pid})`);
            this.pushAllServers();
            resolve();
            break;
          case "failed":
            settled = true;
            reject(new Error(`proxy worker ${index}: ${m.error}`));
            break;
          case "stick": {
            const b = this.#backends().get(m.proxy);
            b?.stick?.store(m.key, m.server);
            if (m.changed) this.shareStick(m.proxy, m.key, m.server, child);
            this.#onStick?.(m.proxy, m.key, m.server);
            break;
          }
          case "status":
            child.status = m.status;
            break;
          case "log":
            this.#log.child(`worker${index}`)[m.level](m.msg, m.fields);
            break;
        }
      });
      proc.on("error", (err) => {
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      proc.on("exit", (code, signal) => this.#exited(child, code, signal, settled ? undefined : (err) => {
        settled = true;
        reject(err);
      }));
      this.#send(child, { type: "start", index, config: this.#config });
    });
  }
}
