// mode http, the request side: one client connection, request by request — parse, route, hand
// the request to its exchange (exchange.ts), keep the connection alive, pipelining and close.

import { Deadline } from "../../core/deadline.ts";
import type { Conn } from "../../runtime/transport.ts";
import type { SessionContext } from "../session.ts";
import type { Stoppable } from "../stop_group.ts";
import { tunnel } from "../tunnel.ts";
import { Backend } from "../backend.ts";
import { admit, Refusal } from "./admission.ts";
import { BodyDecoder, drainable, requestBodyMode } from "./body.ts";
import { ClientSocket } from "./client_socket.ts";
import type { ClientEvents } from "./client_socket.ts";
import { requestPersistence } from "./cookie_persistence.ts";
import { Exchange, HOLD_MAX } from "./exchange.ts";
import type { ExchangeOwner } from "./exchange.ts";
import { prepareForward, upgradeRequested } from "./forward_headers.ts";
import { isIdempotent } from "./message.ts";
import type { HttpMessage } from "./message.ts";
import { HeadParser, HttpParseError } from "./parser.ts";
import type { RequestEnv } from "./request_env.ts";
import { RequestLog } from "./request_log.ts";
import { serializeLocal } from "./responses.ts";
import type { LocalResponse } from "./responses.ts";
import { frontendRuntime } from "./runtime.ts";
import type { FrontendRuntime } from "./runtime.ts";
import { clientStep } from "./states.ts";
import type { ClientEvent, ClientState } from "./states.ts";

/**
 * The mode-http session handler (registered as `handlers.http` of the proxy subsystem).
 * Settles when the client connection is closed; never rejects.
 */
export function httpSession(ctx: SessionContext): Promise<void> {
  return new Promise((resolve) => new HttpSession(ctx, resolve).start());
}
httpSession.readsChunks = true;
/** The frontend's hot path (SessionHandler.run): no promise per connection. */
httpSession.run = (ctx: SessionContext, done: (socket: Conn) => void): void => new HttpSession(ctx, () => done(ctx.socket)).start();
/** Built once per frontend config: compiled rules, error pages, the access logger. */
httpSession.prepare = frontendRuntime;

/**
 * One client connection. Requests are handled one at a time; pipelined ones wait in `#held` and
 * are answered in order. All I/O callbacks are installed once per connection.
 */
export class HttpSession implements ExchangeOwner, Stoppable {
  readonly ctx: SessionContext;
  readonly socket: Conn;
  readonly fe: FrontendRuntime;
  readonly log = new RequestLog();
  readonly env: RequestEnv;
  readonly #exchange: Exchange;
  readonly #done: () => void;
  readonly #parser: HeadParser;
  readonly #reqBody = new BodyDecoder(400);
  /** While the rest of a request body is drained after its response: bytes still allowed, else -1. */
  #drainLeft = -1;
  readonly #client: ClientSocket;
  /** A field, not made in the constructor: closures there kept connections alive across scavenges (gc_churn_test). */
  readonly #events: ClientEvents = {
    data: (c) => this.#clientData(c),
    end: () => this.#clientEnd(),
    close: () => this.#clientClose(),
    drain: () => this.#exchange.clientDrained(),
    timeout: () => this.#clientTimeout(),
  };
  #state: ClientState = "idle";
  #first = true;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #clientEnded = false;
  /** `timeout http_request` / `http_keep_alive`: one lazy timer per session. */
  readonly #deadline: Deadline;
  #replaying = false;
  /** The request in flight. */
  req: HttpMessage | undefined;
  #keepClient = false;
  /** The current request said it is the last (Connection: close, or HTTP/1.0 without keep-alive). */
  #lastRequest = false;
  #servedBefore = false;
  /** The current request's end was told to the stick counters (or it was never tracked). */
  #countedEnd = true;
  /** A tarpitted request's answer, waiting for timeout.tarpit. */
  #tarpit: { cancel(): void } | undefined;
  constructor(ctx: SessionContext, done: () => void) {
    this.ctx = ctx;
    this.env = { client: ctx.client, clock: ctx.clock, services: ctx.services };
    this.socket = ctx.socket;
    this.#done = done;
    this.#client = new ClientSocket(ctx.socket, ctx.clock, this.#events);
    this.fe = (ctx.prepared as FrontendRuntime | undefined) ?? frontendRuntime(ctx.frontend, ctx.log);
    this.#parser = new HeadParser("request", ctx.frontend.limits);
    this.#exchange = new Exchange(this);
    this.#deadline = new Deadline(ctx.clock, () => this.#timerFired());
    // ctx.client may read the addresses on first use: the access log needs them after the close.
    if (this.fe.access !== undefined) void (ctx.client.srcAddress + ctx.client.srcPort);
  }

  start(): void {
    const s = this.socket;
    const reader = this.#client.reader;
    this.#client.listen(true);
    this.ctx.stops?.add(this);
    this.log.tStart = this.ctx.clock.now();
    this.#deadline.set(this.log.tStart + this.#requestTimeout());
    if (s.destroyed) return this.#clientClose();
    if (reader) for (const c of reader.takePending()) this.#clientData(c);
    s.resume();
  }

  /**
   * Moves along CLIENT_TRANSITIONS. A transition the table does not have is a bug: it is logged
   * and the connection is cut (an exception here would escape into the event loop).
   */
  #to(event: ClientEvent): void {
    const next = clientStep(this.#state, event);
    if (next !== undefined) {
      this.#state = next;
      return;
    }
    this.ctx.log.error(`http session: no transition from "${this.#state}" on "${event}"; closing the connection`, { frontend: this.ctx.frontend.name });
    this.#state = "closed";
    this.#exchange.abort();
    this.socket.destroy();
  }

  /** Stop: an idle keep-alive connection closes now; a busy one after its response. */
  onStopping(): void {
    this.#keepClient = false;
    if (this.#state === "idle" && this.#held.length === 0) this.#close();
  }

  /** `timeout http_request`, else `timeout client`, else none. */
  #requestTimeout(): number {
    const t = this.ctx.frontend.timeouts;
    return t.httpRequest > 0 ? t.httpRequest : t.client > 0 ? t.client : Infinity;
  }

  /** The head did not come in time: 408 for a request, a quiet close for an idle keep-alive connection. */
  #timerFired(): void {
    if (this.#client.lingering || (this.#state !== "idle" && this.#state !== "head")) return;
    if (this.#state === "head" || this.#first) {
      // RFC 9110 §15.5.9: the head did not arrive in time (slowloris); the slot comes back.
      this.log.termination = "cR";
      this.#sendError(408, "timeout http_request");
    } else this.#close(); // keep-alive idle: close quietly
  }

  // ---- client side ----

  #clientData(chunk: Buffer): void {
    let c: Buffer | undefined = chunk;
    while (c !== undefined && c.length > 0) {
      switch (this.#state) {
        case "idle":
        case "head":
          c = this.#head(c);
          break;
        case "body":
          c = this.#body(c);
          break;
        case "sent":
          this.#hold(c);
          return;
        default:
          return;
      }
    }
  }

  /** Bytes of the next (pipelined) request, kept until the current response is done. */
  #hold(c: Buffer): void {
    this.#held.push(c);
    this.#heldBytes += c.length;
    if (this.#heldBytes > HOLD_MAX) this.#client.pause();
  }

  /**
   * `timeout client` is armed only while tandem waits on the client: for the rest of a request
   * body, or for the client to read what it was sent (server paused). Before a head the session
   * timer counts, while the server works its own timeout does; and a socket without a timeout
   * costs no timer refresh per read and write.
   */
  #syncClientTimeout(): void {
    this.#client.timeout(this.#state === "body" || this.#exchange.serverPaused, this.ctx.frontend.timeouts.client);
  }

  #head(c: Buffer): Buffer | undefined {
    if (this.#state === "idle") {
      this.#to("bytes");
      if (!this.#first) {
        const now = this.ctx.clock.now();
        this.log.tStart = now;
        this.#deadline.set(now + this.#requestTimeout());
      }
    }
    let req;
    try {
      req = this.#parser.push(c);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.log.termination = "PR";
      this.#sendError(err.status, err.message);
      return undefined;
    }
    if (req === undefined) return undefined;
    const rest = this.#parser.rest;
    this.#begin(req);
    return rest;
  }

  #body(c: Buffer): Buffer | undefined {
    let end: number;
    try {
      end = this.#reqBody.feed(c, 0);
    } catch (err) {
      this.log.termination = "PD";
      this.#sendError(400, (err as Error).message);
      return undefined;
    }
    if (this.#drainLeft >= 0) return this.#drained(c, end);
    const part = end === c.length ? c : c.subarray(0, end);
    if (part.length > 0 && !this.#exchange.body(part)) this.#client.pause();
    if (this.#reqBody.done) {
      this.#exchange.reqDone = true;
      this.#to("body_complete");
      this.#syncClientTimeout();
    }
    return end < c.length ? c.subarray(end) : undefined;
  }

  /**
   * Body bytes that arrive after the response (the server answered early): read and dropped up to
   * limits.drain_body, so the connection serves the next request (haproxy drains the same way);
   * beyond the bound it closes.
   */
  #drained(c: Buffer, end: number): Buffer | undefined {
    this.#drainLeft -= end;
    if (this.#drainLeft < 0) {
      this.#close();
      return undefined;
    }
    if (!this.#reqBody.done) return undefined;
    this.#drainLeft = -1;
    this.#exchange.reqDone = true;
    this.#to("body_complete");
    this.#next();
    this.#syncClientTimeout();
    return end < c.length ? c.subarray(end) : undefined;
  }

  /** A complete request head: checks, routing, header rewriting, then the exchange. */
  #begin(req: HttpMessage): void {
    const f = this.ctx.frontend;
    const log = this.log;
    this.#first = false;
    this.#deadline.set(Infinity);
    // Phase timers only feed the access log: no clock reads per request without one.
    log.tHead = this.fe.access !== undefined ? this.ctx.clock.now() : log.tStart;
    this.req = req;
    log.reset();
    this.#exchange.reset();
    this.#reqBody.reset(requestBodyMode(req), req.contentLength);
    const reqDone = this.#reqBody.done;
    this.#exchange.reqDone = reqDone;
    this.#to(reqDone ? "head_complete" : "head_with_body");
    this.#syncClientTimeout();
    this.#lastRequest = req.connClose || (req.minor === 0 && !req.connKeepAlive);
    this.#keepClient = !this.#lastRequest && !this.#clientEnded && !this.ctx.retiring?.aborted;
    const upgrade = upgradeRequested(req, f.allowH2cUpgrade);
    req.tls = this.ctx.tls;
    if (this.ctx.tracking) {
      this.env.counters = this.ctx.tracking.requestStarted();
      this.#countedEnd = false;
    }
    const backend = admit(req, this.fe, this.ctx.backends, this.env, this.ctx.log, f.name);
    if (backend instanceof Refusal) {
      if (backend.termination !== undefined) log.termination = backend.termination;
      return this.#sendError(backend.status, backend.why);
    }
    if (!(backend instanceof Backend)) return this.#local(backend);
    log.backend = backend.name;
    const persist = requestPersistence(req, backend);
    prepareForward(req, { upgrade, forwardfor: f.forwardfor, forwarded: f.forwarded, via: f.via, reuse: backend.config.httpReuse, client: this.ctx.client, proto: this.ctx.tls ? "https" : "http" });
    const repeatable = this.#reqBody.mode === "none" && isIdempotent(req.method);
    this.#exchange.start({ backend, head: req.requestBytes(), repeatable, servedBefore: this.#servedBefore, upgrade, reader: this.#client.reader !== undefined, persist }, reqDone);
  }

  #clientEnd(): void {
    this.#clientEnded = true;
    switch (this.#state) {
      case "idle":
        if (this.#parser.buffered === 0) return this.#close();
        return this.#destroy("CR");
      case "head":
        return this.#destroy("CR");
      case "body":
        return this.#destroy("CD");
      case "sent":
        // A half-closed client still gets its response; abort_on_close drops it.
        this.#keepClient = false;
        if (this.#exchange.backend?.config.abortOnClose && !this.log.started) this.#destroy("CQ");
        return;
      case "closed":
        this.socket.destroy();
    }
  }

  #clientClose(): void {
    if (this.#state === "tunnel") return;
    const wasOpen = this.#state !== "closed" || this.#exchange.busy;
    if (this.#state !== "closed") this.#to("close");
    this.#deadline.cancel();
    this.#tarpit?.cancel();
    this.#client.closed();
    if (wasOpen && this.log.status === 0) this.log.end("CD");
    this.#writeLog();
    this.#exchange.abort();
    this.#unlistenStop();
    this.#done();
  }

  #clientTimeout(): void {
    // `timeout client`: idle while it should be sending the body or reading the response.
    if (this.#state === "body" || this.#exchange.serverPaused) {
      this.log.termination = "cD";
      if (!this.log.started) this.#sendError(408, "timeout client");
      else this.#destroy("cD");
    } else if (this.#state === "closed") this.socket.destroy();
  }

  // ---- what the exchange tells (ExchangeOwner) ----

  write(data: Buffer): boolean {
    this.log.bytes += data.length;
    return this.socket.write(data);
  }

  finalHead(res: HttpMessage, mustClose: boolean): void {
    if (mustClose || !drainable(this.#reqBody, this.ctx.frontend.limits.drainBody) || this.ctx.retiring?.aborted) this.#keepClient = false;
    if (!this.#keepClient) res.add("Connection", "close");
    else if (this.req!.minor === 0) res.add("Connection", "keep-alive");
  }

  responseDone(): void {
    this.#syncClientTimeout();
    this.#servedBefore = true;
    this.#writeLog();
    this.#next();
  }

  failed(status: number, why: string): void {
    if (this.#state === "closed") return;
    this.#sendError(status, why);
  }

  broken(termination: string): void {
    this.#destroy(termination);
  }

  serverWritable(): void {
    if (this.#state === "body") this.#client.resume();
  }

  serverPausedChanged(): void {
    this.#syncClientTimeout();
  }

  /** 101 Switching Protocols went out: tunnel bytes both ways until both sides close. */
  switched(server: Conn, release: () => void): void {
    this.#to("switched");
    this.#deadline.cancel();
    this.#client.listen(false);
    for (const b of this.#held) server.write(b);
    this.#held = [];
    this.#writeLog();
    const t = this.#exchange.backend!.config.timeouts;
    const ft = this.ctx.frontend.timeouts;
    void tunnel(this.socket, server, { client: ft.tunnel ?? ft.client, server: t.tunnel ?? t.server }).done.then(() => {
      release();
      this.#unlistenStop();
      this.#done();
    });
  }

  // ---- ends of requests: keep-alive, pipelining, close ----

  /** After a response: close, drain the rest of the request body, or wait for the next request and replay held bytes. */
  #next(): void {
    if (this.#state === "body" && this.#keepClient) {
      this.#drainLeft = this.ctx.frontend.limits.drainBody;
      return this.#client.resume();
    }
    this.req = undefined;
    this.log.reset();
    this.#exchange.reset();
    if (!this.#keepClient || this.#state === "closed") return this.#lastRequest || this.#clientEnded ? this.#closeAfterLast() : this.#close();
    this.#to("response_done");
    const t = this.ctx.frontend.timeouts;
    this.#deadline.set(this.ctx.clock.now() + (t.httpKeepAlive > 0 ? t.httpKeepAlive : this.#requestTimeout()));
    if (this.#held.length === 0 || this.#replaying) return this.#client.resume();
    // Pipelined requests: feed what was held, in order. Local answers may finish requests
    // synchronously (re-entering here); a request that goes to a server holds the rest again.
    this.#replaying = true;
    const list = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (let i = 0; i < list.length; i++) {
      const state = this.#state as ClientState; // #clientData moves it on
      if (state === "closed" || state === "tunnel") break;
      this.#clientData(list[i]);
    }
    this.#replaying = false;
    if (this.#heldBytes <= HOLD_MAX) this.#client.resume();
  }

  /** A response made here (rules): keep-alive unless a request body is left unread; a tarpit waits, then closes. */
  #local(res: LocalResponse): void {
    if (res.tarpit) {
      this.#client.pause();
      this.#tarpit = this.ctx.clock.setTimeout(() => this.#sendError(res.status, "tarpit"), this.ctx.frontend.timeouts.tarpit);
      return;
    }
    const req = this.req!;
    if (!drainable(this.#reqBody, this.ctx.frontend.limits.drainBody) || this.ctx.retiring?.aborted) this.#keepClient = false;
    const text = serializeLocal(res, { close: !this.#keepClient, keepAlive10: req.minor === 0, head: req.method === "HEAD" });
    this.log.status = res.status;
    this.log.started = true;
    this.log.bytes += text.length;
    this.socket.write(text, "latin1");
    this.log.termination = "--";
    this.#writeLog();
    this.#next();
  }

  /** An error page, then close (haproxy closes after its own errors). */
  #sendError(status: number, why: string): void {
    this.#exchange.abort();
    if (this.#state === "closed") return;
    const log = this.log;
    if (log.started) return this.#destroy(log.termination);
    if (this.ctx.log.enabled?.("debug") !== false) this.ctx.log.debug(`${status} to ${this.ctx.client.srcAddress}: ${why}`, { frontend: this.ctx.frontend.name });
    // A backend's errorfiles answer for the requests routed to it.
    const text = (this.#exchange.backend?.http.pages ?? this.fe.pages).get(status);
    log.status = status;
    log.started = true;
    log.bytes += text.length;
    this.socket.write(text, "latin1");
    log.end("P-");
    this.#writeLog();
    this.#keepClient = false;
    this.#close();
  }

  /** Ends our side after pending writes, lingering for the client's FIN (ClientSocket.linger). */
  #close(): void {
    if (this.#client.lingering) return;
    this.#to("close");
    this.#deadline.cancel();
    this.#client.linger();
  }

  /**
   * The client said the request was its last (or closed its side), and we read everything it sent:
   * once the response is handed to the kernel, close(2) sends it and a FIN, and no later byte of
   * the client can turn that into a reset — no lingering needed (RFC 9112 §9.6 lingers for
   * requests still in flight). Saves a shutdown(2), a timer and a wait for the client's FIN.
   */
  #closeAfterLast(): void {
    if (this.#client.lingering || !this.#exchange.reqDone || this.socket.writableLength !== 0 || this.#held.length !== 0 || this.#parser.buffered !== 0) return this.#close();
    this.#to("close");
    this.#deadline.cancel();
    this.#client.close();
  }

  #destroy(termination: string): void {
    this.log.end(termination);
    this.#writeLog();
    this.#exchange.abort();
    this.socket.destroy();
  }

  #unlistenStop(): void {
    this.ctx.stops?.delete(this);
  }

  #writeLog(): void {
    if (!this.#countedEnd) {
      this.#countedEnd = true;
      this.ctx.tracking?.requestEnded(this.log.status);
    }
    if (this.fe.access) this.log.write(this.fe.access, this.fe.format, this.ctx, this.req);
  }
}
