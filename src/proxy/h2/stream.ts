// One HTTP/2 stream relayed as one HTTP/1.1 exchange: the same admission, rules and Exchange
// (http/exchange.ts) as an HTTP/1.1 request; HEADERS and DATA frames instead of bytes back.

import type { ServerHttp2Stream } from "node:http2";
import { Backend } from "../backend.ts";
import { admit, Refusal } from "../http/admission.ts";
import { requestPersistence } from "../http/cookie_persistence.ts";
import { Exchange } from "../http/exchange.ts";
import type { ExchangeOwner } from "../http/exchange.ts";
import { prepareForward } from "../http/forward_headers.ts";
import { isIdempotent } from "../http/message.ts";
import type { HttpMessage } from "../http/message.ts";
import { RequestLog } from "../http/request_log.ts";
import { defaultBody, reasonPhrase } from "../http/responses.ts";
import type { LocalResponse } from "../http/responses.ts";
import type { FrontendRuntime } from "../http/runtime.ts";
import type { RequestEnv } from "../http/request_env.ts";
import type { SessionContext } from "../session.ts";
import { H2RequestError, requestFromH2, responseToH2 } from "./headers.ts";

const CRLF = Buffer.from("\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");
const ignore = () => {};

/**
 * One stream. The request goes to the server as HTTP/1.1 (a chunked body when the client gave no
 * length), the response comes back as HEADERS + DATA. A stream the client resets (or a
 * connection that closes) aborts the exchange at once: the server connection is closed and its
 * slot freed, so resets cost the servers nothing more (CVE-2023-44487).
 */
export class H2Stream implements ExchangeOwner {
  readonly ctx: SessionContext;
  readonly fe: FrontendRuntime;
  readonly log = new RequestLog();
  readonly env: RequestEnv;
  readonly payloadOnly = true;
  req: HttpMessage | undefined;
  readonly #stream: ServerHttp2Stream;
  readonly #raw: string[];
  readonly #exchange: Exchange;
  #hasBody: boolean;
  #finished = false;
  /** Told when the stream is over (the connection counts client resets through it). */
  onEnd: ((clientAborted: boolean) => void) | undefined;

  constructor(ctx: SessionContext, fe: FrontendRuntime, stream: ServerHttp2Stream, raw: string[], endStream: boolean) {
    this.ctx = ctx;
    this.fe = fe;
    this.env = { client: ctx.client, clock: ctx.clock, services: ctx.services };
    this.#stream = stream;
    this.#raw = raw;
    this.#hasBody = !endStream;
    this.#exchange = new Exchange(this);
    this.log.tStart = this.log.tHead = ctx.clock.now();
    this.log.version = "HTTP/2.0";
  }

  start(): void {
    const s = this.#stream;
    s.on("error", ignore);
    s.on("close", () => this.#streamClosed());
    s.on("drain", () => this.#exchange.clientDrained());
    let req: HttpMessage;
    try {
      req = requestFromH2(this.#raw, this.#hasBody);
    } catch (err) {
      this.log.termination = "PR";
      const e = err as H2RequestError;
      return this.failed(e.status ?? 400, e.message);
    }
    this.req = req;
    req.tls = this.ctx.tls;
    const f = this.ctx.frontend;
    if (this.ctx.tracking) this.env.counters = this.ctx.tracking.requestStarted();
    const backend = admit(req, this.fe, this.ctx.backends, this.env, this.ctx.log, f.name);
    if (backend instanceof Refusal) {
      if (backend.termination !== undefined) this.log.termination = backend.termination;
      return this.failed(backend.status, backend.why);
    }
    if (!(backend instanceof Backend)) return this.#local(backend);
    this.log.backend = backend.name;
    const persist = requestPersistence(req, backend);
    prepareForward(req, { upgrade: false, forwardfor: f.forwardfor, forwarded: f.forwarded, via: false, reuse: backend.config.httpReuse, client: this.ctx.client, proto: "https" });
    if (f.via) {
      const i = req.indexOf("via");
      if (i < 0) req.add("Via", "2.0 tandem");
      else req.setValue(i, req.values[i] + ", 2.0 tandem");
    }
    if (this.#hasBody) {
      s.on("data", (c: Buffer) => this.#requestData(c));
      s.on("end", () => this.#requestEnd());
    }
    const repeatable = !this.#hasBody && isIdempotent(req.method);
    this.#exchange.start({ backend, head: req.requestBytes(), repeatable, servedBefore: false, upgrade: false, reader: false, persist }, !this.#hasBody);
  }

  // ---- the request body: DATA frames, chunked when the client gave no length ----

  #requestData(c: Buffer): void {
    if (this.#finished) return;
    let ok = true;
    if (this.req?.chunked) {
      ok = this.#exchange.body(Buffer.from(c.length.toString(16) + "\r\n")) && ok;
      ok = this.#exchange.body(c) && ok;
      ok = this.#exchange.body(CRLF) && ok;
    } else ok = this.#exchange.body(c);
    if (!ok) this.#stream.pause();
  }

  #requestEnd(): void {
    if (this.req?.chunked) this.#exchange.body(LAST_CHUNK);
    this.#exchange.reqDone = true;
  }

  /** The client reset the stream or the connection went away. */
  #streamClosed(): void {
    if (this.#finished) return;
    this.log.end(this.log.started ? "CD" : "CR");
    this.#exchange.abort();
    this.#finish(true);
  }

  // ---- what the exchange tells (ExchangeOwner) ----

  write(data: Buffer): boolean {
    this.log.bytes += data.length;
    return this.#stream.write(data);
  }

  finalHead(): void {}

  respond(res: HttpMessage, endStream: boolean): boolean {
    try {
      this.#stream.respond(responseToH2(res), { endStream });
      return true;
    } catch (err) {
      this.ctx.log.warn(`Response cannot be sent over HTTP/2: ${(err as Error).message}`, { frontend: this.ctx.frontend.name });
      return false;
    }
  }

  responseDone(): void {
    if (!this.#stream.destroyed) this.#stream.end();
    this.#finish(false);
  }

  failed(status: number, why: string): void {
    if (this.#finished) return;
    if (this.ctx.log.enabled?.("debug") !== false) this.ctx.log.debug(`${status} to ${this.ctx.client.srcAddress} (HTTP/2): ${why}`, { frontend: this.ctx.frontend.name });
    this.log.end("P-");
    if (this.log.started) return this.broken(this.log.termination);
    this.#local({ status, reason: reasonPhrase(status), body: defaultBody(status), contentType: "text/html" });
  }

  /** Resets the stream (nothing more can be sent on it); the exchange closed the server side. */
  broken(termination: string): void {
    this.log.end(termination);
    this.#exchange.abort();
    if (!this.#stream.destroyed) this.#stream.close(2 /* INTERNAL_ERROR */);
    this.#finish(false);
  }

  serverWritable(): void {
    this.#stream.resume();
  }

  serverPausedChanged(): void {}

  /** HTTP/2 has no 101 (RFC 9113 §8.6): the exchange never switches an h2 stream. */
  switched(): void {}

  /** A response made here (rules, errors): HEADERS and DATA in one go; a tarpit after timeout.tarpit. */
  #local(r: LocalResponse): void {
    if (r.tarpit) {
      const t = this.ctx.clock.setTimeout(() => this.#local({ ...r, tarpit: false }), this.ctx.frontend.timeouts.tarpit);
      this.#stream.once("close", () => t.cancel());
      return;
    }
    const headers: Record<string, string | number | string[]> = { ":status": r.status };
    const body = r.status === 204 || r.status === 304 || this.req?.method === "HEAD" ? "" : r.body ?? "";
    if (r.body !== undefined && r.body !== "") headers["content-type"] = r.contentType ?? "text/plain";
    for (const [k, v] of r.headers ?? []) {
      const name = k.toLowerCase();
      const prev = headers[name];
      headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    this.log.status = r.status;
    this.log.started = true;
    const s = this.#stream;
    if (!s.destroyed && !s.headersSent) {
      try {
        s.respond(headers, { endStream: body === "" });
        if (body !== "") {
          this.log.bytes += Buffer.byteLength(body, "latin1");
          s.end(body, "latin1");
        }
      } catch {
        s.close();
      }
    }
    this.#finish(false);
  }

  #finish(clientAborted: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.ctx.tracking?.requestEnded(this.log.status);
    if (this.fe.access !== undefined) this.log.write(this.fe.access, this.fe.format, this.ctx, this.req);
    this.onEnd?.(clientAborted);
  }
}
