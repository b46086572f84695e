// Helpers for the mode-http integration tests: real backends, a started proxy, raw and http clients.

import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { loadConfigText } from "../../src/tandem_config.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { Services, Subsystem } from "../../src/core/subsystem.ts";
import { httpSession } from "../../src/proxy/http/session.ts";
import { createProxySubsystem } from "../../src/proxy/subsystem.ts";

import { freePort } from "../helpers/net.ts";
export { freePort };

/** A node:http backend that says who it is; counts TCP connections and requests. */
export interface Backend {
  name: string;
  port: number;
  server: HttpServer;
  connections: number;
  requests: number;
  /** Last request seen: method, url, headers, body. */
  last?: { method: string; url: string; headers: IncomingMessage["headers"]; rawHeaders: string[]; body: string };
  close(): Promise<void>;
}

/**
 * Starts a backend. Paths: /echo returns the request body; /chunked streams 3 chunks with a
 * trailer; /slow?ms=N answers after N ms; /big?n=N sends N bytes; /status/NNN answers NNN;
 * anything else answers "<name> <path>".
 */
export async function httpBackend(name: string, port = 0): Promise<Backend> {
  const sockets = new Set<Socket>();
  const b: Backend = { name, port: 0, server: undefined as unknown as HttpServer, connections: 0, requests: 0, close: async () => {} };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    b.requests++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      b.last = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body };
      const url = new URL(req.url!, "http://x");
      res.setHeader("X-Backend", name);
      if (url.pathname === "/echo") return res.end(body);
      if (url.pathname === "/chunked") {
        res.setHeader("Trailer", "X-Sum");
        res.write("one,");
        setTimeout(() => {
          res.write("two,");
          res.addTrailers({ "X-Sum": "3" });
          res.end("three");
        }, 5);
        return;
      }
      if (url.pathname === "/slow") {
        setTimeout(() => res.end(`${name} slow`), Number(url.searchParams.get("ms") ?? 100));
        return;
      }
      if (url.pathname === "/big") return res.end(Buffer.alloc(Number(url.searchParams.get("n")), 97));
      const m = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (m) {
        res.statusCode = Number(m[1]);
        return res.end(`${name} ${m[1]}`);
      }
      res.end(`${name} ${req.url}`);
    });
  };
  b.server = createHttpServer({ keepAliveTimeout: 30_000 }, handler);
  b.server.on("connection", (s: Socket) => {
    b.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  b.server.on("upgrade", (_req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => b.server.listen(port, "127.0.0.1", () => resolve()));
  b.port = (b.server.address() as { port: number }).port;
  b.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      b.server.close(() => resolve());
    });
  return b;
}

/** A raw TCP backend: answers every connection with `reply` (a function of the request bytes). */
export async function rawBackend(reply: (data: string, socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let buf = "";
    s.on("data", (c) => {
      buf += c.toString("latin1");
      if (buf.includes("\r\n\r\n")) {
        const data = buf;
        buf = "";
        reply(data, s);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A running proxy subsystem with mode http, and the log lines it wrote. */
export interface Proxy {
  config: TandemConfig;
  subsystem: Subsystem;
  lines: string[];
  /** The proxy's status (services.proxy.status(): frontends, backends, servers with counters). */
  status(): unknown;
  stop(): Promise<void>;
}

/**
 * Loads YAML text and starts the proxy subsystem with the http handler. By default the handler
 * reads through a ChunkReader as in the binary; `chunkReader: false` makes it read 'data' events
 * (the path of runtimes without `onread`).
 */
export async function startProxy(yaml: string, options: { chunkReader?: boolean } = {}): Promise<Proxy> {
  const r = loadConfigText(yaml, "test.yaml");
  if (!r.config) throw new Error(`bad test config: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  const lines: string[] = [];
  const log = createLogger("tandem", { level: (process.env.TANDEM_TEST_LOG as "debug") ?? "info", write: (l) => lines.push(l) });
  const ctx: { config: TandemConfig; bus: EventBus; clock: typeof systemClock; log: typeof log; services: Services } = { config: r.config, bus: new EventBus(), clock: systemClock, log, services: {} };
  const subsystem = createProxySubsystem(ctx, { handlers: { http: options.chunkReader === false ? (c) => httpSession(c) : httpSession } });
  await subsystem.start();
  return { config: r.config, subsystem, lines, status: () => ctx.services.proxy!.status(), stop: () => subsystem.stop("test over") };
}

/** A proxy with frontend `web` on a free port in front of one backend `b` (server b1). */
export interface OneBackend {
  backend: Backend;
  proxy: Proxy;
  port: number;
  /** Stops the proxy, then the backend. */
  close(): Promise<void>;
}

/**
 * Starts backend `b` and a proxy whose frontend `web` has the given extra keys (a YAML mapping's
 * lines, indented as frontend keys; `frontend`) and backend `b` has `backendKeys` (flow-style
 * keys before `servers`, e.g. `http_reuse: never, `).
 */
export async function oneBackend(frontend = "", backendKeys = ""): Promise<OneBackend> {
  const backend = await httpBackend("b");
  const port = await freePort();
  const proxy = await startProxy(`
frontends:
  web:
    bind: 127.0.0.1:${port}
${frontend.trim() ? frontend.replace(/^\s*/gm, "    ").trimEnd() + "\n" : ""}    default_backend: b
backends:
  b: { ${backendKeys}servers: { b1: { address: 127.0.0.1, port: ${backend.port} } } }
`);
  return { backend, proxy, port, close: async () => (await proxy.stop(), await backend.close()) };
}

/**
 * Sends raw bytes and collects everything until the proxy closes the connection (or `ms`
 * passes). Returns the text received and whether the connection was closed by the peer.
 */
export function raw(port: number, data: string | Buffer | (string | Buffer)[], ms = 2000, gap = 0): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(t);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed });
    };
    const t = setTimeout(finish, ms);
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => {});
    s.on("close", () => {
      closed = true;
      finish();
    });
    s.on("end", () => {
      closed = true;
      finish();
    });
    const parts = Array.isArray(data) ? data : [data];
    s.on("connect", async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (gap) await new Promise((r) => setTimeout(r, gap));
      }
    });
  });
}

/** Status codes of every response in a raw byte stream. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
