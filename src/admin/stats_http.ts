// The stats HTTP server at stats.bind + stats.uri: the page, `;csv`, `;json`, Prometheus /metrics, admin actions.

import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import type { StatsConfig } from "./config.ts";
import { TandemError, describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { statsCsv } from "./csv.ts";
import type { TandemMetrics } from "./metrics.ts";
import type { CommandResult } from "./runtime_api.ts";
import type { StatsSnapshot } from "./snapshot.ts";
import { PAGE_CSP, statsPage } from "./stats_page.ts";

/** Largest action body accepted. */
const MAX_BODY = 4096;
const ACTIONS: Record<string, "ready" | "drain" | "maint"> = { ready: "ready", enable: "ready", drain: "drain", maint: "maint", disable: "maint" };
const NAME = /^[^\s/;]+$/;

export interface StatsHttpDeps {
  snapshot: () => StatsSnapshot;
  metrics: TandemMetrics;
  /** Runs a runtime-API command (actions reuse its checks and messages). */
  run: (command: string) => Promise<CommandResult>;
  log: Logger;
}

const ERRNO: Record<string, string> = { EADDRINUSE: "address already in use", EADDRNOTAVAIL: "address not available", EACCES: "permission denied" };

/** Constant-time comparison of the Authorization header with the configured user and password. */
function authorized(req: IncomingMessage, auth: StatsConfig["auth"]): boolean {
  if (!auth) return true;
  const want = Buffer.from(`Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`);
  const got = Buffer.from(req.headers.authorization ?? "");
  return got.length === want.length && timingSafeEqual(got, want);
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", "content-length": Buffer.byteLength(body), ...headers });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

/**
 * Routes (U = stats.uri): GET U → page; U;csv → CSV; U;json → JSON snapshot; /metrics →
 * Prometheus text; POST U with a JSON body {action, proxy, server} when stats.admin is on
 * (action ready|enable|drain|maint|disable). A JSON content type is required for POST, so a
 * cross-site HTML form cannot trigger actions with the browser's cached credentials.
 * With stats.auth every route needs HTTP Basic auth (RFC 7617).
 */
export class StatsHttpServer {
  config: StatsConfig;
  #deps: StatsHttpDeps;
  #servers: Server[] = [];
  #sockets = new Set<Socket>();

  constructor(config: StatsConfig, deps: StatsHttpDeps) {
    this.config = config;
    this.#deps = deps;
  }

  /** Listens on every port of stats.bind. Throws TandemError E_BIND naming the address. */
  async listen(): Promise<void> {
    const { host, ports } = this.config.bind;
    try {
      for (const port of ports) {
        const server = createServer((req, res) => void this.#handle(req, res));
        server.on("connection", (s: Socket) => {
          this.#sockets.add(s);
          s.once("close", () => this.#sockets.delete(s));
        });
        this.#servers.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once("error", (err: NodeJS.ErrnoException) =>
            reject(new TandemError("E_BIND", `Cannot bind the stats page on ${host}:${port}: ${ERRNO[err.code ?? ""] ?? err.message}`, { cause: err })));
          server.listen({ host, port }, () => resolve());
        });
        server.on("error", (err) => this.#deps.log.error(`Stats page: ${describeError(err)}`));
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Where the first listener is bound. */
  get address(): { host: string; port: number } | undefined {
    const a = this.#servers[0]?.address();
    return a && typeof a === "object" ? { host: a.address, port: a.port } : undefined;
  }

  async close(): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    const closed = servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closed);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!authorized(req, this.config.auth)) {
        return send(res, 401, "text/plain; charset=utf-8", "Authentication required\n", { "www-authenticate": 'Basic realm="tandem stats", charset="UTF-8"' });
      }
      const path = (req.url ?? "/").split("?")[0];
      const uri = this.config.uri;
      const isGet = req.method === "GET" || req.method === "HEAD";
      if (path === uri && req.method === "POST") return await this.#action(req, res);
      if (!isGet) return send(res, 405, "text/plain; charset=utf-8", "Method not allowed\n", { allow: path === uri && this.config.admin ? "GET, HEAD, POST" : "GET, HEAD" });
      if (path === uri) {
        const page = statsPage({ title: `tandem stats`, jsonUrl: `${uri};json`, actionUrl: this.config.admin ? uri : undefined, refresh: this.config.refresh });
        return send(res, 200, "text/html; charset=utf-8", page, { "content-security-policy": PAGE_CSP, "referrer-policy": "no-referrer" });
      }
      if (path.startsWith(`${uri};csv`)) return send(res, 200, "text/csv; charset=utf-8", statsCsv(this.#deps.snapshot()));
      if (path.startsWith(`${uri};json`)) return sendJson(res, 200, this.#deps.snapshot());
      if (path === "/metrics") {
        const text = await this.#deps.metrics.render(this.#deps.snapshot());
        return send(res, 200, this.#deps.metrics.contentType, text);
      }
      send(res, 404, "text/plain; charset=utf-8", `Not found: the stats page is at ${uri}\n`);
    } catch (err) {
      this.#deps.log.error(`Stats page: ${req.method} ${req.url}: ${describeError(err)}`);
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "Internal error\n");
      else res.destroy();
    }
  }

  async #action(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.config.admin) return sendJson(res, 403, { ok: false, message: "Actions are disabled: set stats.admin: true to allow them" });
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return sendJson(res, 415, { ok: false, message: "Send the action as application/json" });
    let body = "";
    for await (const chunk of req) {
      body += chunk;
      if (body.length > MAX_BODY) return sendJson(res, 413, { ok: false, message: "Request body too large" });
    }
    let input: { action?: unknown; proxy?: unknown; server?: unknown };
    try {
      input = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { ok: false, message: "The body is not valid JSON" });
    }
    const { action, proxy, server } = input ?? {};
    const state = typeof action === "string" ? ACTIONS[action] : undefined;
    if (!state) return sendJson(res, 400, { ok: false, message: `Unknown action ${JSON.stringify(action)}: use ready, drain or maint` });
    if (typeof proxy !== "string" || typeof server !== "string" || !NAME.test(proxy) || !NAME.test(server)) {
      return sendJson(res, 400, { ok: false, message: "proxy and server must be names" });
    }
    const r = await this.#deps.run(`set server ${proxy}/${server} state ${state}`);
    if (r.severity === "err") return sendJson(res, /^No such/.test(r.text) ? 404 : 409, { ok: false, message: r.text });
    this.#deps.log.info(`Stats page: ${proxy}/${server} set to ${state}`, { remote: req.socket.remoteAddress });
    sendJson(res, 200, { ok: true, message: `${proxy}/${server}: ${state}` });
  }
}
