// One HTTP/2 stream relayed as one HTTP/1.1 exchange: route, rules, a server connection (pooled), the response back.

import type { ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { Backend, Slot } from "../backend.ts";
import type { ProxyError } from "../errors.ts";
import type { Server } from "../server.ts";
import type { SessionContext } from "../session.ts";
import { writeAccess } from "../http/access_log.ts";
import { acmeAnswer } from "../http/acme_answer.ts";
import { BodyDecoder, responseBodyMode } from "../http/body.ts";
import { addForwarded } from "../http/forward_headers.ts";
import { isIdempotent } from "../http/message.ts";
import type { HttpMessage } from "../http/message.ts";
import { HeadParser } from "../http/parser.ts";
import { sharedPool, ServerConn } from "../http/pool.ts";
import type { ServerConnOwner } from "../http/pool.ts";
import { defaultBody, reasonPhrase } from "../http/responses.ts";
import type { LocalResponse } from "../http/responses.ts";
import { route } from "../http/routing.ts";
import { applyRules } from "../http/rules.ts";
import { backendRuntime } from "../http/runtime.ts";
import type { BackendRuntime, FrontendRuntime } from "../http/runtime.ts";
import { H2RequestError, requestFromH2, responseToH2 } from "./headers.ts";

/** Request body bytes held while the server connection is being made; beyond, the stream is paused. */
const HOLD_MAX = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/**
 * One stream. The request goes to the server as HTTP/1.1 (a chunked body when the client gave no
 * length), the response comes back as HEADERS + DATA. A stream the client resets (or a
 * connection that closes) aborts the exchange at once: the server connection is closed and its
 * slot freed, so resets cost the servers nothing more (CVE-2023-44487).
 */
export class H2Exchange implements ServerConnOwner {
  readonly #ctx: SessionContext;
  readonly #fe: FrontendRuntime;
  readonly #stream: ServerHttp2Stream;
  readonly #raw: string[];
  #req: HttpMessage | undefined;
  #backend: Backend | undefined;
  #brt: BackendRuntime | undefined;
  #slot: Slot | undefined;
  #conn: ServerConn | undefined;
  #reused = false;
  #attempts = 0;
  #exclude: Set<Server> | undefined;
  #prefer: Server | undefined;
  #early: Buffer[] = [];
  #earlyBytes = 0;
  #reqDone = false;
  #hasBody: boolean;
  #resParser: HeadParser | undefined;
  #resBody = new BodyDecoder(502);
  #serverKeep = false;
  #responding = false;
  #finished = false;
  #status = 0;
  #bytes = 0;
  #termination = "--";
  #server = "-";
  #t0: number;
  #tw = -1;
  #tc = -1;
  #tSent = 0;
  #tr = -1;
  /** Told when the exchange is over (the session counts client resets through it). */
  onEnd: ((clientAborted: boolean) => void) | undefined;

  #sink = (b: Buffer, s: number, e: number) => this.#write(b.subarray(s, e));

  constructor(ctx: SessionContext, fe: FrontendRuntime, stream: ServerHttp2Stream, raw: string[], endStream: boolean) {
    this.#ctx = ctx;
    this.#fe = fe;
    this.#stream = stream;
    this.#raw = raw;
    this.#hasBody = !endStream;
    this.#reqDone = endStream;
    this.#t0 = ctx.clock.now();
  }

  start(): void {
    const s = this.#stream;
    s.on("error", ignore);
    s.on("close", () => this.#streamClosed());
    s.on("drain", () => this.#conn?.socket.resume());
    if (this.#hasBody) {
      s.on("data", (c: Buffer) => this.#requestData(c));
      s.on("end", () => this.#requestEnd());
    }
    let req: HttpMessage;
    try {
      req = requestFromH2(this.#raw, this.#hasBody);
    } catch (err) {
      this.#termination = "PR";
      const e = err as H2RequestError;
      return this.#error(e.status ?? 400, e.message);
    }
    this.#req = req;
    req.tls = this.#ctx.tls;
    const acme = acmeAnswer(req);
    if (acme !== undefined) return this.#local(acme);
    const compiled = this.#fe.compiled;
    if (compiled === undefined) return this.#error(500, this.#fe.error ?? "frontend rules failed to compile");
    let decision: string | LocalResponse;
    try {
      decision = route(compiled, req, compiled.usesSrc ? this.#ctx.client.srcAddress : "");
    } catch (err) {
      this.#ctx.log.error(`Routing failed in "${this.#ctx.frontend.name}": ${(err as Error).message}`);
      return this.#error(500, "routing failed");
    }
    if (typeof decision !== "string") return this.#local(decision);
    const backend = this.#ctx.backends.get(decision);
    if (backend === undefined) {
      this.#termination = "PC";
      return this.#error(503, `backend "${decision}" does not exist`);
    }
    this.#backend = backend;
    this.#brt = backendRuntime(backend.config);
    const f = this.#ctx.frontend;
    if (f.forwardfor) addForwarded(req, this.#ctx.client.srcAddress, "https");
    if (f.via) {
      const i = req.indexOf("via");
      if (i < 0) req.add("Via", "2.0 tandem");
      else req.setValue(i, req.values[i] + ", 2.0 tandem");
    }
    if (backend.config.httpReuse === "never") req.add("Connection", "close");
    this.#dispatch();
  }

  // ---- client side ----

  #requestData(c: Buffer): void {
    if (this.#finished) return;
    const out = this.#req?.chunked ? [Buffer.from(c.length.toString(16) + "\r\n"), c, CRLF] : [c];
    if (this.#conn !== undefined && this.#tSent > 0) {
      let ok = true;
      for (const b of out) ok = this.#conn.socket.write(b) && ok;
      if (!ok) this.#stream.pause();
      return;
    }
    this.#early.push(...out);
    this.#earlyBytes += c.length;
    if (this.#earlyBytes > HOLD_MAX) this.#stream.pause();
  }

  #requestEnd(): void {
    this.#reqDone = true;
    if (!this.#req?.chunked) return;
    if (this.#conn !== undefined && this.#tSent > 0) this.#conn.socket.write(LAST_CHUNK);
    else this.#early.push(LAST_CHUNK);
  }

  /** The client reset the stream or the connection went away. */
  #streamClosed(): void {
    if (this.#finished) return;
    if (this.#termination === "--") this.#termination = this.#responding ? "CD" : "CR";
    this.#finish(true);
  }

  // ---- server side ----

  #dispatch(): void {
    this.#attempts++;
    const r = this.#backend!.slotFor(this.#ctx.client, { exclude: this.#exclude, prefer: this.#prefer });
    if (r instanceof Promise) r.then((slot) => this.#gotSlot(slot), (err: ProxyError) => this.#noSlot(err));
    else this.#gotSlot(r);
  }

  #noSlot(err: ProxyError): void {
    if (this.#finished) return;
    this.#termination = err.code === "E_QUEUE_TIMEOUT" ? "sQ" : "SC";
    this.#error(503, err.message);
  }

  #gotSlot(slot: Slot): void {
    if (this.#finished) return slot.release();
    this.#slot = slot;
    this.#server = slot.server.name;
    if (this.#tw < 0) this.#tw = slot.queued;
    const conn = this.#backend!.config.httpReuse !== "never" && this.#canRetry() ? sharedPool.take(slot.server) : undefined;
    this.#reused = conn !== undefined;
    if (conn === undefined) return void this.#connect(slot.server);
    if (this.#tc < 0) this.#tc = 0;
    this.#backend!.stickStore(this.#ctx.client, slot.server);
    this.#send(conn);
  }

  async #connect(server: Server): Promise<void> {
    const backend = this.#backend!;
    const t0 = this.#ctx.clock.now();
    let socket: Socket;
    try {
      socket = await backend.connect(server, this.#ctx.client);
    } catch (err) {
      this.#releaseSlot();
      if (this.#finished) return;
      if (this.#attempts > backend.config.retries) {
        this.#termination = (err as ProxyError).code === "E_CONNECT_TIMEOUT" ? "sC" : "SC";
        return this.#error(503, (err as Error).message);
      }
      this.#nextTarget(server);
      return this.#dispatch();
    }
    this.#tc = this.#ctx.clock.now() - t0;
    const conn = new ServerConn(socket, server, backend, sharedPool);
    if (this.#finished) {
      conn.destroy();
      return this.#releaseSlot();
    }
    backend.stickStore(this.#ctx.client, server);
    this.#send(conn);
  }

  #nextTarget(failed: Server): void {
    const b = this.#backend!.config;
    if (b.redispatch && this.#attempts >= b.retries) {
      (this.#exclude ??= new Set()).add(failed);
      this.#prefer = undefined;
    } else this.#prefer = failed;
  }

  /** Sent again on failure only while nothing of the response went out, for an idempotent request without body. */
  #canRetry(): boolean {
    return !this.#responding && !this.#hasBody && isIdempotent(this.#req!.method);
  }

  #send(conn: ServerConn): void {
    this.#conn = conn;
    conn.owner = this;
    conn.requests++;
    (this.#resParser ??= new HeadParser("response", this.#fe.responseLimits)).reset();
    const s = conn.socket;
    s.cork();
    s.write(this.#req!.requestBytes());
    for (const b of this.#early) s.write(b);
    s.uncork();
    this.#early = [];
    this.#tSent = this.#ctx.clock.now();
    if (this.#earlyBytes > HOLD_MAX) this.#stream.resume();
  }

  onServerData(chunk: Buffer): void {
    if (this.#responding) return this.#responseBody(chunk);
    let res;
    try {
      res = this.#resParser!.push(chunk);
    } catch (err) {
      return this.#serverFailed("junk-response", 502, (err as Error).message);
    }
    if (res === undefined) return;
    const rest = this.#resParser!.rest;
    if (res.status < 200) {
      // 1xx: not relayed (the client's Expect was not forwarded); 101 cannot happen without Upgrade.
      if (res.status === 101) return this.#serverFailed("junk-response", 502, "101 without an Upgrade request");
      if (rest !== undefined) this.onServerData(rest);
      return;
    }
    if (this.#brt!.statuses.has(res.status) && this.#attempts <= this.#backend!.config.retries && this.#canRetry()) {
      return this.#serverFailed(String(res.status), 502, `status ${res.status}`);
    }
    this.#startResponse(res, rest);
  }

  #startResponse(res: HttpMessage, rest: Buffer | undefined): void {
    const req = this.#req!;
    this.#tr = this.#ctx.clock.now() - this.#tSent;
    const mode = responseBodyMode(res, req.method);
    this.#resBody.reset(mode, res.contentLength);
    this.#serverKeep = !res.connClose && (res.minor === 1 || res.connKeepAlive) && mode !== "close";
    const src = this.#brt!.usesSrc || this.#fe.compiled!.usesSrc ? this.#ctx.client.srcAddress : "";
    if (this.#brt!.rules.length) applyRules(this.#brt!.rules, res, req, src);
    const frules = this.#fe.compiled!.responseRules;
    if (frules.length) applyRules(frules, res, req, src);
    if (this.#ctx.frontend.via) {
      const i = res.indexOf("via");
      if (i < 0) res.add("Via", "1.1 tandem");
      else res.setValue(i, res.values[i] + ", 1.1 tandem");
    }
    this.#status = res.status;
    this.#responding = true;
    try {
      this.#stream.respond(responseToH2(res), { endStream: this.#resBody.done });
    } catch (err) {
      this.#ctx.log.warn(`Response from ${this.#label()} cannot be sent over HTTP/2: ${(err as Error).message}`, { frontend: this.#ctx.frontend.name });
      this.#termination = "SH";
      return this.#abort();
    }
    if (this.#resBody.done) return this.#responseDone();
    if (rest !== undefined) this.#responseBody(rest);
  }

  #responseBody(chunk: Buffer): void {
    let end: number;
    try {
      end = this.#resBody.feed(chunk, 0, this.#sink);
    } catch (err) {
      this.#ctx.log.warn(`Invalid response body from ${this.#label()}: ${(err as Error).message}`, { frontend: this.#ctx.frontend.name });
      this.#termination = "SD";
      return this.#abort();
    }
    if (end < chunk.length) this.#serverKeep = false;
    if (this.#resBody.done) this.#responseDone();
  }

  #write(b: Buffer): void {
    this.#bytes += b.length;
    // Server sockets are read without a ChunkReader here: each read is its own Buffer, safe to queue.
    if (!this.#stream.write(b)) this.#conn?.socket.pause();
  }

  onServerEnd(): void {
    this.#serverGone(true);
  }

  onServerClose(): void {
    this.#serverGone(false);
  }

  #serverGone(fin: boolean): void {
    if (this.#finished || this.#conn === undefined) return;
    if (!this.#responding) {
      const empty = this.#resParser!.buffered === 0;
      return this.#serverFailed(empty ? "empty-response" : "junk-response", 502, empty ? "server closed without responding" : "server closed in the middle of the response head");
    }
    if (fin && this.#resBody.end()) return this.#responseDone();
    this.#termination = "SD";
    this.#abort();
  }

  onServerDrain(): void {
    this.#stream.resume();
  }

  onServerTimeout(): void {
    if (this.#finished) return;
    if (!this.#responding) return this.#serverFailed("response-timeout", 504, "timeout server", "sH");
    this.#termination = "sD";
    this.#abort();
  }

  #serverFailed(kind: string, status: number, why: string, term = "SH"): void {
    const conn = this.#conn;
    const server = conn?.server;
    this.#conn = undefined;
    conn?.destroy();
    this.#releaseSlot();
    if (this.#finished) return;
    const rt = this.#brt!;
    const allowed = this.#reused || rt.kinds.has(kind) || rt.statuses.has(Number(kind)) || (kind === "empty-response" && rt.kinds.has("conn-failure"));
    if (allowed && this.#canRetry() && this.#attempts <= this.#backend!.config.retries) {
      if (server) this.#nextTarget(server);
      this.#tSent = 0;
      return this.#dispatch();
    }
    this.#termination = term;
    this.#error(status, why);
  }

  // ---- ends ----

  #responseDone(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) {
      if (this.#serverKeep && this.#reqDone && !conn.closed && this.#backend!.config.httpReuse !== "never") {
        conn.socket.resume();
        sharedPool.put(conn);
      } else conn.destroy();
    }
    this.#releaseSlot();
    if (!this.#stream.destroyed) this.#stream.end();
    this.#finish(false);
  }

  /** A response made here (rules, errors): HEADERS and DATA in one go. */
  #local(r: LocalResponse): void {
    const headers: Record<string, string | number | string[]> = { ":status": r.status };
    const body = r.status === 204 || r.status === 304 || this.#req?.method === "HEAD" ? "" : r.body ?? "";
    if (r.body !== undefined && r.body !== "") headers["content-type"] = r.contentType ?? "text/plain";
    for (const [k, v] of r.headers ?? []) {
      const name = k.toLowerCase();
      const prev = headers[name];
      headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    this.#status = r.status;
    this.#responding = true;
    const s = this.#stream;
    if (!s.destroyed && !s.headersSent) {
      try {
        s.respond(headers, { endStream: body === "" });
        if (body !== "") {
          this.#bytes += Buffer.byteLength(body, "latin1");
          s.end(body, "latin1");
        }
      } catch {
        s.close();
      }
    }
    this.#finish(false);
  }

  #error(status: number, why: string): void {
    if (this.#ctx.log.enabled?.("debug") !== false) this.#ctx.log.debug(`${status} to ${this.#ctx.client.srcAddress} (HTTP/2): ${why}`, { frontend: this.#ctx.frontend.name });
    if (this.#termination === "--") this.#termination = "P-";
    if (this.#responding) return this.#abort();
    this.#local({ status, reason: reasonPhrase(status), body: defaultBody(status), contentType: "text/html" });
  }

  /** Resets the stream (nothing more can be sent on it) and closes the server connection. */
  #abort(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.destroy();
    this.#releaseSlot();
    if (!this.#stream.destroyed) this.#stream.close(2 /* INTERNAL_ERROR */);
    this.#finish(false);
  }

  #finish(clientAborted: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    if (clientAborted) {
      const conn = this.#conn;
      this.#conn = undefined;
      conn?.destroy();
      this.#releaseSlot();
    }
    this.#log();
    this.onEnd?.(clientAborted);
  }

  #releaseSlot(): void {
    const s = this.#slot;
    if (s) {
      this.#slot = undefined;
      s.release();
    }
  }

  #label(): string {
    return `${this.#backend?.name}/${this.#server}`;
  }

  #log(): void {
    const access = this.#fe.access;
    if (access === undefined) return;
    const c = this.#ctx.client;
    const req = this.#req;
    writeAccess(access, this.#fe.format, {
      client: `${c.srcAddress}:${c.srcPort}`,
      frontend: this.#ctx.frontend.name,
      backend: this.#backend?.name ?? "-",
      server: this.#server,
      status: this.#status || -1,
      bytes: this.#bytes,
      method: req?.method ?? "-",
      target: req?.target ?? "<BADREQ>",
      version: "HTTP/2.0",
      tq: 0,
      tw: this.#tw,
      tc: this.#tc,
      tr: this.#tr,
      tt: this.#ctx.clock.now() - this.#t0,
      termination: this.#termination,
      retries: Math.max(0, this.#attempts - 1),
    });
  }
}

const ignore = () => {};
