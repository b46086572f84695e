// Proxy worker processes (global.workers > 1): SO_REUSEPORT listeners in N processes, one health checker.

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Logger, LogFields } from "../core/log.ts";
import type { Backend, ServerSnapshot } from "./backend.ts";
import type { ProxySubsystemConfig } from "./config_types.ts";
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
  | { type: "stick_clear"; proxy: string };

/** Worker → main. */
export type FromWorker =
  | { type: "started" }
  | { type: "failed"; error: string }
  | { type: "reloaded"; id: number; error?: string }
  | { type: "stick"; proxy: string; key: string; server: string }
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
  readonly #children: Child[] = [];
  #config: ProxySubsystemConfig;
  #stopping = false;
  #reloadId = 0;

  /** count: worker processes besides the main one. */
  constructor(options: { count: number; config: ProxySubsystemConfig; log: Logger; backends: () => ReadonlyMap<string, Backend> }) {
    this.#count = options.count;
    this.#config = options.config;
    this.#log = options.log;
    this.#backends = options.backends;
  }

  /** Starts every worker and waits until each has bound its listeners; throws the first failure. */
  async start(): Promise<void> {
    const all = [];
    for (let i = 1; i <= this.#count; i++) all.push(this.#spawn(i));
    await Promise.all(all);
  }

  /** Sends a reloaded config; resolves when every worker applied it (failures are logged). */
  async reload(config: ProxySubsystemConfig): Promise<void> {
    this.#config = config;
    const id = ++this.#reloadId;
    await Promise.all(this.#children.filter((c) => c.ready).map((c) => new Promise<void>((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== "reloaded" || m.id !== id) return;
        c.proc.off("message", onMessage);
        if (m.error) this.#log.error(`Proxy worker ${c.index}: reload failed: ${m.error}`);
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

  clearStick(proxy: string): void {
    for (const c of this.#children) this.#send(c, { type: "stick_clear", proxy });
  }

  /** Adds the workers' last reported counters into the main process's status. */
  addInto(status: ProxyStatus): void {
    const accepted = (st: ProxyStatus) => st.frontends.reduce((n, f) => n + f.total, 0);
    status.workers = 1 + this.#children.length;
    status.acceptedPerWorker = [accepted(status), ...this.#children.map((c) => (c.status ? accepted(c.status) : 0))];
    for (const c of this.#children) if (c.status) addStatus(status, c.status);
  }

  #send(c: Child, m: ToWorker): void {
    if (c.proc.connected) c.proc.send(m, (err: Error | null) => void err);
  }

  #spawn(index: number): Promise<void> {
    const { file, args } = workerCommand();
    const proc = spawn(file, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, [WORKER_ENV]: "1" }, serialization: "advanced" });
    const child: Child = { index, proc, ready: false };
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
            this.shareStick(m.proxy, m.key, m.server, child);
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
      proc.on("exit", (code, signal) => {
        child.ready = false;
        child.status = undefined;
        if (!settled) {
          settled = true;
          reject(new Error(`proxy worker ${index} exited (${signal ?? code}) before it was ready`));
          return;
        }
        if (this.#stopping) return;
        this.#log.error(`Proxy worker ${index} exited (${signal ?? code}): starting it again in 1s`);
        setTimeout(() => {
          if (!this.#stopping) this.#spawn(index).catch((err) => this.#log.error(`Proxy worker ${index} did not restart: ${(err as Error).message}`));
        }, 1000).unref();
      });
      this.#send(child, { type: "start", index, config: this.#config });
    });
  }
}
