// Test helpers: minimal TandemConfig builders, real loopback backends and clients.

import { connect, createServer } from "node:net";
import type { Server as NetServer, Socket } from "node:net";
import type { BackendConfig, FrontendConfig, HealthCheckConfig, ServerConfig } from "../../src/proxy/config_types.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { parseBind } from "../../src/core/address.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Clock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import type { AnyEvent } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Logger } from "../../src/core/log.ts";
import type { Subsystem, SubsystemContext } from "../../src/core/subsystem.ts";
import { createProxySubsystem } from "../../src/proxy/subsystem.ts";

const TIMEOUTS = { connect: 500, client: 5000, server: 5000, queue: 2000, httpRequest: 5000, httpKeepAlive: 5000 };

export function tcpCheck(over: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    type: "tcp",
    method: "GET",
    path: "/",
    expectStatus: { min: 200, max: 399 },
    interval: 50,
    fastinterval: 25,
    downinterval: 50,
    timeout: 200,
    rise: 2,
    fall: 2,
    ...over,
  };
}

export function server(name: string, port: number | undefined, over: Partial<ServerConfig> = {}): ServerConfig {
  return { name, address: "127.0.0.1", port, weight: 1, backup: false, disabled: false, initState: "up", ...over };
}

export function backend(name: string, servers: ServerConfig[], over: Partial<BackendConfig> = {}): BackendConfig {
  return {
    name,
    mode: "tcp",
    balance: { algorithm: "roundrobin", hash: "map" },
    servers,
    persist: false,
    redispatch: false,
    abortOnClose: false,
    retries: 3,
    retryOn: [],
    timeouts: { ...TIMEOUTS },
    httpReuse: "safe",
    httpResponse: [],
    httpRequest: [],
    acls: {},
    errorfiles: {},
    userlists: {},
    ...over,
  };
}

export function frontend(name: string, binds: string[], over: Partial<FrontendConfig> = {}): FrontendConfig {
  return {
    name,
    mode: "tcp",
    binds: binds.map((b) => ({ ...parseBind(b), acceptProxy: false })),
    timeouts: { ...TIMEOUTS },
    acls: {},
    useBackend: [],
    defaultBackend: name,
    httpRequest: [],
    httpResponse: [],
    forwardfor: false,
    via: false,
    accessLog: { enabled: false, format: "text" },
    errorfiles: {},
    limits: { requestLine: 8192, headerBytes: 32768, headerCount: 100, drainBody: 1024 * 1024 },
    allowH2cUpgrade: false,
    userlists: {},
    ...over,
  };
}

export function config(frontends: FrontendConfig[], backends: BackendConfig[], maxconn = 1000): TandemConfig {
  return {
    file: "test.yaml",
    role: "master",
    global: { maxconn, workers: 1, stateDir: "/nonexistent", hostname: "test", gracePeriod: 200 },
    frontends,
    backends,
    userlists: {},
    notifiers: [],
    alerts: [],
  };
}

/** A started proxy subsystem with its bus and a log of every event. */
export interface Harness {
  proxy: Subsystem;
  ctx: SubsystemContext;
  events: AnyEvent[];
  stop(): Promise<void>;
}

export async function startProxy(cfg: TandemConfig, clock: Clock = systemClock, log: Logger = nullLogger): Promise<Harness> {
  const bus = new EventBus();
  const events: AnyEvent[] = [];
  bus.onAny((e) => events.push(e));
  const ctx: SubsystemContext = { config: cfg, bus, clock, log, services: {} };
  const proxy = createProxySubsystem(ctx);
  await proxy.start();
  return { proxy, ctx, events, stop: () => proxy.stop("test over") };
}

/** A TCP server that sends `name\n` on connect, then echoes; tracks its sockets. */
export interface NamedServer {
  name: string;
  port: number;
  server: NetServer;
  sockets: Set<Socket>;
  accepted: number;
  close(): Promise<void>;
}

export async function namedServer(name: string, port = 0, host = "127.0.0.1", onSocket?: (s: Socket) => void): Promise<NamedServer> {
  const sockets = new Set<Socket>();
  const out: NamedServer = {
    name,
    port: 0,
    server: undefined as unknown as NetServer,
    sockets,
    accepted: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        out.server.close(() => resolve());
      }),
  };
  out.server = createServer({ allowHalfOpen: true }, (s) => {
    out.accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    if (onSocket) return onSocket(s);
    s.write(`${name}\n`);
    s.pipe(s);
  });
  await new Promise<void>((resolve, reject) => {
    out.server.once("error", reject);
    out.server.listen(port, host, () => resolve());
  });
  out.port = (out.server.address() as { port: number }).port;
  return out;
}

/** Connects and resolves with the first line the server sends (its name); keeps nothing open. */
export function whoAnswers(port: number, host = "127.0.0.1", localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host, localAddress });
    let buf = "";
    s.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        s.destroy();
        resolve(buf.slice(0, nl));
      }
    });
    s.on("error", reject);
    s.on("close", () => reject(new Error(`closed before a line (got "${buf}")`)));
  });
}

/** An open client connection with a line reader. */
export interface Client {
  socket: Socket;
  line(): Promise<string>;
  closed: Promise<void>;
}

export function openClient(port: number, host = "127.0.0.1", localAddress?: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, localAddress, allowHalfOpen: true });
    let buf = "";
    const waiting: ((l: string) => void)[] = [];
    const lines: string[] = [];
    // Resolves on the peer's FIN too: with allowHalfOpen our side would stay open for writing.
    const closed = new Promise<void>((r) => {
      socket.on("close", () => r());
      socket.on("end", () => r());
    });
    socket.on("data", (d) => {
      buf += d;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const w = waiting.shift();
        if (w) w(l);
        else lines.push(l);
      }
    });
    socket.on("error", () => {});
    socket.once("connect", () =>
      resolve({
        socket,
        closed,
        line: () => {
          const l = lines.shift();
          if (l !== undefined) return Promise.resolve(l);
          return new Promise((r, j) => {
            waiting.push(r);
            socket.once("close", () => j(new Error("closed")));
            socket.once("end", () => j(new Error("closed")));
          });
        },
      }),
    );
    socket.once("error", reject);
  });
}

export { freePort } from "../helpers/net.ts";

/**
 * Stops what a test file started: track(start...) registers a proxy harness or named server,
 * defer(fn) any other cleanup; cleanAll (pass it to node:test's `after`) runs them newest first.
 */
export function tracker(): {
  track: <T extends Harness | NamedServer>(x: Promise<T>) => Promise<T>;
  defer: (fn: () => Promise<void>) => void;
  cleanAll: () => Promise<void>;
} {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    async track(x) {
      const v = await x;
      cleanups.push(() => ("proxy" in v ? v.stop() : v.close()));
      return v;
    },
    defer(fn) {
      cleanups.push(fn);
    },
    async cleanAll() {
      for (const c of cleanups.reverse()) await c();
    },
  };
}

/** n consecutive free ports. */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000);
    const servers: NetServer[] = [];
    let ok = true;
    for (let p = base; p < base + n && ok; p++) {
      const s = createServer();
      ok = await new Promise<boolean>((r) => {
        s.once("error", () => r(false));
        s.listen(p, "0.0.0.0", () => r(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new Error("no free port range");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn() is truthy or the time is up. */
export async function waitFor(fn: () => boolean, ms = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A port whose connections hang in SYN-SENT: a listener (python3, which unlike node:net can
 * listen without accepting) with its accept queue filled, so the kernel drops further SYNs.
 * Loopback only. close() kills the helper.
 */
export async function blackholePort(): Promise<{ port: number; close(): Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const child = spawn("python3", ["-c", "import socket,time,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)"], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(Number(String(d).trim())));
    child.once("error", reject);
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("error", () => {});
    fillers.push(s);
  }
  await sleep(50);
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.kill();
    },
  };
}
