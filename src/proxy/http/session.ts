// mode http: one client connection, request by request — parse, route, forward, stream back.

import type { Socket } from "node:net";
import { ItemSet } from "../../core/item_set.ts";
import type { TimerHandle } from "../../core/clock.ts";
import type { Backend, Slot } from "../backend.ts";
import type { ProxyError } from "../errors.ts";
import type { Server } from "../server.ts";
import type { SessionContext } from "../session.ts";
import { ChunkReader, readerOf } from "../chunk_reader.ts";
import { tunnel } from "../tunnel.ts";
import { writeAccess } from "./access_log.ts";
import { BodyDecoder, drainable, requestBodyMode, responseBodyMode } from "./body.ts";
import type { BodyMode } from "./body.ts";
import { addForwarded, addVia, stripHopByHop, upgradeAccepted, upgradeRequested } from "./forward_headers.ts";
import { isIdempotent } from "./message.ts";
import type { HttpMessage } from "./message.ts";
import { HeadParser, HttpParseError } from "./parser.ts";
import { sharedPool, ServerConn } from "./pool.ts";
import type { ConnPool, ServerConnOwner } from "./pool.ts";
import { serializeLocal } from "./responses.ts";
import type { LocalResponse } from "./responses.ts";
import { route } from "./routing.ts";
import type { CompiledFrontend } from "./routing.ts";
import { applyRules } from "./rules.ts";
import { backendRuntime, frontendRuntime } from "./runtime.ts";
import type { BackendRuntime, FrontendRuntime } from "./runtime.ts";

// Client-side states.
const C_WAIT: number = 0; // between requests, no byte of the next one yet
const C_HEAD: number = 1; // receiving a request head
const C_BODY: number = 2; // head done, receiving the request body
const C_SENT: number = 3; // request fully received, waiting for/streaming the response
const C_TUNNEL: number = 4; // switched protocols
const C_CLOSED: number = 5;

// Server-side states of the current exchange.
const R_NONE: number = 0;
const R_HEAD: number = 1;
const R_BODY: number = 2;

/** Client bytes held while a server is chosen or a response is pending; beyond, stop reading. */
const HOLD_MAX = 64 * 1024;
/** How long a closing client connection may stay open after our FIN. */
const LINGER_MS = 1000;
const EMPTY = Buffer.alloc(0);
/** Body bytes that arrive with a response head up to this size are sent in the head's buffer. */
const TAIL_MAX = 16 * 1024;

/** Options for tests: another connection pool. */
export interface HttpSessionOptions {
  pool?: ConnPool;
}

/**
 * The mode-http session handler (registered as `handlers.http` of the proxy subsystem).
 * Settles when the client connection is closed; never rejects.
 */
export function httpSession(ctx: SessionContext, options: HttpSessionOptions = {}): Promise<void> {
  return new Promise((resolve) => new HttpSession(ctx, options.pool ?? sharedPool, resolve).start());
}
httpSession.readsChunks = true;
/** The frontend's hot path (SessionHandler.run): no promise per connection. */
httpSession.run = (ctx: SessionContext, done: (socket: Socket) => void): void => new HttpSession(ctx, sharedPool, () => done(ctx.socket)).start();

/**
 * One client connection. Requests are handled one at a time; pipelined ones wait in `#held`
 * and are answered in order. All I/O callbacks are installed once per connection.
 */
class HttpSession implements ServerConnOwner {
  readonly ctx: SessionContext;
  readonly socket: Socket;
  readonly fe: FrontendRuntime;
  readonly #pool: ConnPool;
  readonly #done: () => void;
  readonly #parser: HeadParser;
  readonly #reqBody = new BodyDecoder(400);
  readonly #resBody = new BodyDecoder(502);
  /** Made on the first request sent: an idle connection does not pay for it. */
  #resParser: HeadParser | undefined;
  /** Set when the socket was accepted with a ChunkReader (chunk_reader.ts): no 'data' events. */
  readonly #reader: ChunkReader | undefined;
  #state = C_WAIT;
  #first = true;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #clientPaused = false;
  #clientEnded = false;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #deadline = Infinity;
  #replaying = false;

  // The current exchange.
  #req: HttpMessage | undefined;
  #backend: Backend | undefined;
  #brt: BackendRuntime | undefined;
  #slot: Slot | undefined;
  #conn: ServerConn | undefined;
  #reused = false;
  #connReady = false;
  #reqHead: Buffer = EMPTY;
  #early: Buffer[] = [];
  #reqDone = false;
  /** While the rest of a request body is drained after its response: bytes still allowed, else -1. */
  #drainLeft = -1;
  #keepClient = false;
  /** The current request said it is the last (Connection: close, or HTTP/1.0 without keep-alive). */
  #lastRequest = false;
  #upgrade = false;
  #attempts = 0;
  #exclude: Set<Server> | undefined;
  #prefer: Server | undefined;
  #resState = R_NONE;
  #resMode: BodyMode = "none";
  #serverKeep = false;
  #dechunk = false;
  #serverPaused = false;
  /** The client socket's `timeout client` is armed (see #syncClientTimeout). */
  #clientTimed = false;
  #responseStarted = false;
  #status = 0;
  #bytesOut = 0;
  #termination = "--";
  #logged = false;
  #lastServer: string | undefined;
  #servedBefore = false;
  #lingering = false;
  // Timers (clock ms).
  #tStart = 0;
  #tHead = 0;
  #tw = -1;
  #tc = -1;
  #tSent = 0;
  #tr = -1;

  #onData = (c: Buffer) => this.#clientData(c);
  #onChunk = (c: Buffer): boolean => {
    this.#clientData(c);
    return true; // pausing goes through socket.pause(), which stops the reader too
  };
  #onEnd = () => this.#clientEnd();
  #onClose = () => this.#clientClose();
  #onDrain = () => {
    if (this.#serverPaused && this.#conn) {
      this.#serverPaused = false;
      this.#conn.socket.resume();
      this.#syncClientTimeout();
    }
  };
  #onTimeout = () => this.#clientTimeout();
  /**
   * Sessions to tell when their frontend stops, by its signal: one 'abort' listener per signal and
   * a Set entry per session (an EventTarget listener per session costs more and its removal
   * walks every listener).
   */
  static #stopSets = new WeakMap<AbortSignal, ItemSet<HttpSession>>();

  static #stopSet(signal: AbortSignal): ItemSet<HttpSession> {
    let set = HttpSession.#stopSets.get(signal);
    if (set === undefined) {
      const sessions = (set = new ItemSet());
      signal.addEventListener("abort", () => {
        for (const x of sessions.values()) x.#onStopping();
      }, { once: true });
      HttpSession.#stopSets.set(signal, set);
    }
    return set;
  }

  /** Stop: an idle keep-alive connection closes now; a busy one after its response. */
  #onStopping(): void {
    this.#keepClient = false;
    if (this.#state === C_WAIT && this.#held.length === 0) this.#close();
  }
  #onTimer = () => this.#timerFired();
  #sink = (b: Buffer, s: number, e: number) => {
    this.#bytesOut += e - s;
    if (!this.socket.write(b.subarray(s, e))) this.#pauseServer();
  };

  constructor(ctx: SessionContext, pool: ConnPool, done: () => void) {
    this.ctx = ctx;
    this.socket = ctx.socket;
    this.#pool = pool;
    this.#done = done;
    this.#reader = readerOf(ctx.socket);
    this.fe = frontendRuntime(ctx.frontend, ctx.log);
    this.#parser = new HeadParser("request", ctx.frontend.limits);
    // ctx.client may read the addresses on first use: the access log needs them after the close.
    if (this.fe.access !== undefined) void (ctx.client.srcAddress + ctx.client.srcPort);
  }

  start(): void {
    const s = this.socket;
    const reader = this.#reader;
    if (reader) reader.onChunk = this.#onChunk;
    else s.on("data", this.#onData);
    s.on("end", this.#onEnd);
    s.on("close", this.#onClose);
    s.on("drain", this.#onDrain);
    s.on("timeout", this.#onTimeout);
    const stopping = this.ctx.stopping;
    if (stopping !== undefined && !stopping.aborted) HttpSession.#stopSet(stopping).add(this);
    this.#tStart = this.ctx.clock.now();
    this.#arm(this.#tStart + this.#requestTimeout());
    if (s.destroyed) return this.#clientClose();
    if (reader) for (const c of reader.takePending()) this.#clientData(c);
    s.resume();
  }

  // ---- timers: one lazy timer per session for http_request / http_keep_alive ----

  /** `timeout http_request`, else `timeout client`, else none. */
  #requestTimeout(): number {
    const t = this.ctx.frontend.timeouts;
    return t.httpRequest > 0 ? t.httpRequest : t.client > 0 ? t.client : Infinity;
  }

  #arm(deadline: number): void {
    this.#deadline = deadline;
    if (deadline === Infinity || (this.#timer !== undefined && this.#timerAt <= deadline)) return;
    this.#timer?.cancel();
    this.#timerAt = deadline;
    this.#timer = this.ctx.clock.setTimeout(this.#onTimer, Math.max(0, deadline - this.ctx.clock.now()));
  }

  #timerFired(): void {
    this.#timer = undefined;
    if (this.#lingering) return;
    this.#timerAt = Infinity;
    if (this.#state !== C_WAIT && this.#state !== C_HEAD) return;
    const now = this.ctx.clock.now();
    if (now + 1 < this.#deadline) return this.#arm(this.#deadline);
    if (this.#state === C_HEAD || this.#first) {
      // RFC 9110 §15.5.9: the head did not arrive in time (slowloris); the slot comes back.
      this.#termination = "cR";
      this.#sendError(408, "timeout http_request");
    } else this.#close(); // keep-alive idle: close quietly
  }

  // ---- client side ----

  #clientData(chunk: Buffer): void {
    let c: Buffer | undefined = chunk;
    while (c !== undefined && c.length > 0) {
      switch (this.#state) {
        case C_WAIT:
        case C_HEAD:
          c = this.#head(c);
          break;
        case C_BODY:
          c = this.#body(c);
          break;
        case C_SENT:
          this.#hold(c);
          return;
        default:
          return;
      }
    }
  }

  #hold(c: Buffer): void {
    this.#held.push(c);
    this.#heldBytes += c.length;
    if (this.#heldBytes > HOLD_MAX) this.#pauseClient();
  }

  #pauseClient(): void {
    if (!this.#clientPaused) {
      this.#clientPaused = true;
      this.socket.pause();
    }
  }

  #resumeClient(): void {
    if (this.#clientPaused && this.#state !== C_CLOSED) {
      this.#clientPaused = false;
      this.socket.resume();
    }
  }

  #pauseServer(): void {
    if (!this.#serverPaused && this.#conn) {
      this.#serverPaused = true;
      this.#conn.socket.pause();
      this.#syncClientTimeout();
    }
  }

  /**
   * `timeout client` is armed only while tandem waits on the client: for the rest of a request
   * body, or for the client to read what it was sent (server paused). Before a head the session
   * timer counts, while the server works its own timeout does; and a socket without a timeout
   * costs no timer refresh per read and write.
   */
  #syncClientTimeout(): void {
    const want = this.#state === C_BODY || this.#serverPaused;
    if (want === this.#clientTimed) return;
    this.#clientTimed = want;
    this.socket.setTimeout(want ? this.ctx.frontend.timeouts.client : 0);
  }

  #head(c: Buffer): Buffer | undefined {
    if (this.#state === C_WAIT) {
      this.#state = C_HEAD;
      if (!this.#first) {
        const now = this.ctx.clock.now();
        this.#tStart = now;
        this.#arm(now + this.#requestTimeout());
      }
    }
    let req;
    try {
      req = this.#parser.push(c);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.#termination = "PR";
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
      this.#termination = "PD";
      this.#sendError(400, (err as Error).message);
      return undefined;
    }
    if (this.#drainLeft >= 0) return this.#drained(c, end);
    const part = end === c.length ? c : c.subarray(0, end);
    if (part.length > 0) {
      if (this.#connReady && this.#conn) {
        if (!this.#conn.socket.write(part)) this.#pauseClient();
      } else {
        this.#early.push(part);
        this.#heldBytes += part.length;
        if (this.#heldBytes > HOLD_MAX) this.#pauseClient();
      }
    }
    if (this.#reqBody.done) {
      this.#reqDone = true;
      this.#state = C_SENT;
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
    this.#reqDone = true;
    this.#next();
    this.#syncClientTimeout();
    return end < c.length ? c.subarray(end) : undefined;
  }

  /** A complete request head: checks, routing, header rewriting, then dispatch. */
  #begin(req: HttpMessage): void {
    const f = this.ctx.frontend;
    this.#first = false;
    this.#deadline = Infinity;
    // Phase timers only feed the access log: no clock reads per request without one.
    this.#tHead = this.fe.access !== undefined ? this.ctx.clock.now() : this.#tStart;
    this.#req = req;
    this.#resetExchange();
    this.#reqBody.reset(requestBodyMode(req), req.contentLength);
    this.#reqDone = this.#reqBody.done;
    this.#state = this.#reqDone ? C_SENT : C_BODY;
    this.#syncClientTimeout();
    this.#lastRequest = req.connClose || (req.minor === 0 && !req.connKeepAlive);
    this.#keepClient = !this.#lastRequest && !this.#clientEnded && !this.ctx.retiring?.aborted;
    this.#upgrade = upgradeRequested(req, f.allowH2cUpgrade);
    if (req.method === "CONNECT") return this.#sendError(501, "CONNECT is not supported");
    if (req.expect !== "" && req.expect !== "100-continue") return this.#sendError(417, `unsupported Expect "${req.expect}"`);
    const rt = this.fe;
    if (rt.compiled === undefined) return this.#sendError(500, rt.error ?? "frontend rules failed to compile");
    const decision = this.#route(rt.compiled, req);
    if (decision === undefined) return;
    if (typeof decision !== "string") return this.#local(decision);
    const backend = this.ctx.backends.get(decision);
    if (backend === undefined) {
      this.#termination = "PC";
      return this.#sendError(503, `backend "${decision}" does not exist`);
    }
    this.#backend = backend;
    this.#brt = backendRuntime(backend.config);
    stripHopByHop(req, this.#upgrade);
    if (f.forwardfor) addForwarded(req, this.ctx.client.srcAddress, "http");
    if (f.via) addVia(req, req.minor);
    if (backend.config.httpReuse === "never" && !this.#upgrade) req.add("Connection", "close");
    // Forwarded as HTTP/1.1, which requires Host (RFC 9112 §3.2): an HTTP/1.0 request without one
    // gets the address the client connected to.
    if (req.minor === 0 && req.host === "" && req.indexOf("host") < 0) {
      const c = this.ctx.client;
      req.add("Host", c.dstAddress.includes(":") ? `[${c.dstAddress}]:${c.dstPort}` : `${c.dstAddress}:${c.dstPort}`);
    }
    this.#reqHead = req.requestBytes();
    this.#dispatch();
  }

  #route(c: CompiledFrontend, req: HttpMessage): string | LocalResponse | undefined {
    try {
      return route(c, req, c.usesSrc ? this.ctx.client.srcAddress : "");
    } catch (err) {
      this.ctx.log.error(`Routing failed in "${this.ctx.frontend.name}": ${(err as Error).message}`);
      this.#sendError(500, "routing failed");
      return undefined;
    }
  }

  #clientEnd(): void {
    this.#clientEnded = true;
    switch (this.#state) {
      case C_WAIT:
        if (this.#parser.buffered === 0) return this.#close();
        return this.#destroy("CR");
      case C_HEAD:
        return this.#destroy("CR");
      case C_BODY:
        return this.#destroy("CD");
      case C_SENT:
        // A half-closed client still gets its response; abort_on_close drops it.
        this.#keepClient = false;
        if (this.#backend?.config.abortOnClose && !this.#responseStarted) this.#destroy("CQ");
        return;
      case C_CLOSED:
        this.socket.destroy();
    }
  }

  #clientClose(): void {
    if (this.#state === C_TUNNEL) return;
    const wasOpen = this.#state !== C_CLOSED || this.#conn !== undefined || this.#slot !== undefined;
    this.#state = C_CLOSED;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (wasOpen && this.#status === 0 && this.#termination === "--") this.#termination = "CD";
    this.#log();
    if (this.#conn) {
      const conn = this.#conn;
      this.#conn = undefined;
      conn.destroy();
    }
    this.#releaseSlot();
    this.#unlistenStop();
    this.#done();
  }

  #clientTimeout(): void {
    // `timeout client`: idle while it should be sending the body or reading the response.
    if (this.#state === C_BODY || this.#serverPaused) {
      this.#termination = "cD";
      if (!this.#responseStarted) this.#sendError(408, "timeout client");
      else this.#destroy("cD");
    } else if (this.#state === C_CLOSED) this.socket.destroy();
  }

  // ---- server side ----

  /**
   * Reserves a slot and gets a connection (pooled or new), retrying connect failures, then sends.
   * A free slot and a pooled connection (the keep-alive case) take no promise and no microtask.
   */
  #dispatch(): void {
    this.#attempts++;
    const r = this.#backend!.slotFor(this.ctx.client, { exclude: this.#exclude, prefer: this.#prefer });
    if (r instanceof Promise) r.then((slot) => this.#gotSlot(slot), (err) => this.#noSlot(err as ProxyError));
    else this.#gotSlot(r);
  }

  #noSlot(err: ProxyError): void {
    if (this.#state === C_CLOSED) return;
    this.#termination = err.code === "E_QUEUE_TIMEOUT" ? "sQ" : "SC";
    this.#sendError(503, err.message);
  }

  #gotSlot(slot: Slot): void {
    if (this.#state === C_CLOSED || this.#req === undefined) return slot.release();
    this.#slot = slot;
    this.#lastServer = slot.server.name;
    if (this.#tw < 0) this.#tw = slot.queued;
    const conn = this.#reuseAllowed() ? this.#pool.take(slot.server) : undefined;
    this.#reused = conn !== undefined;
    if (conn === undefined) return void this.#connect(slot.server);
    if (this.#tc < 0) this.#tc = 0;
    this.#backend!.stickStore(this.ctx.client, slot.server);
    this.#send(conn);
  }

  /** A new connection to server; a failure is retried (another #dispatch) or answered with 503. */
  async #connect(server: Server): Promise<void> {
    const backend = this.#backend!;
    const client = this.ctx.client;
    const t0 = this.ctx.clock.now();
    let socket: Socket;
    try {
      socket = await backend.connect(server, client, undefined, this.#reader ? new ChunkReader() : undefined);
    } catch (err) {
      this.#releaseSlot();
      if (this.#state === C_CLOSED) return;
      if (this.#attempts > backend.config.retries) {
        this.#termination = (err as ProxyError).code === "E_CONNECT_TIMEOUT" ? "sC" : "SC";
        return this.#sendError(503, (err as Error).message);
      }
      this.#nextTarget(server);
      return this.#dispatch();
    }
    this.#tc = this.ctx.clock.now() - t0;
    const conn = new ServerConn(socket, server, backend, this.#pool);
    if (this.#state === C_CLOSED) {
      conn.destroy();
      return this.#releaseSlot();
    }
    backend.stickStore(client, server);
    this.#send(conn);
  }

  /**
   * http_reuse safe (haproxy's meaning, widened): an idle connection may carry any request but
   * the first of a session — or the first too when it can be retried on a fresh connection if
   * the idle one turns out closed, so reuse never costs the client an error.
   */
  #reuseAllowed(): boolean {
    if (this.#backend!.config.httpReuse === "never" || this.#upgrade) return false;
    return this.#servedBefore || this.#canRetry();
  }

  /** Where the next attempt goes: the same server, or another one on the last retry with redispatch. */
  #nextTarget(failed: Server): void {
    const b = this.#backend!.config;
    if (b.redispatch && this.#attempts >= b.retries) {
      (this.#exclude ??= new Set()).add(failed);
      this.#prefer = undefined;
    } else this.#prefer = failed;
  }

  /** A request may be sent again: idempotent, no body, nothing of the response sent yet. */
  #canRetry(): boolean {
    const req = this.#req!;
    return !this.#responseStarted && this.#reqDone && this.#reqBody.mode === "none" && isIdempotent(req.method);
  }

  #send(conn: ServerConn): void {
    this.#conn = conn;
    conn.owner = this;
    conn.requests++;
    this.#connReady = true;
    this.#resState = R_HEAD;
    (this.#resParser ??= new HeadParser("response", this.fe.responseLimits)).reset();
    const s = conn.socket;
    const early = this.#early;
    if (early.length === 0) s.write(this.#reqHead);
    else {
      s.cork();
      s.write(this.#reqHead);
      for (let i = 0; i < early.length; i++) s.write(early[i]);
      s.uncork();
      this.#early = [];
    }
    if (this.fe.access !== undefined) this.#tSent = this.ctx.clock.now();
    if (this.#state === C_BODY) {
      this.#heldBytes = 0;
      this.#resumeClient();
    }
  }

  onServerData(chunk: Buffer): void {
    if (this.#resState === R_BODY) return this.#responseBody(chunk);
    if (this.#resState !== R_HEAD) {
      // Bytes after the response: the connection cannot be trusted for another request.
      this.#serverKeep = false;
      return;
    }
    let res;
    try {
      res = this.#resParser!.push(chunk);
    } catch (err) {
      return this.#serverFailed("junk-response", 502, (err as Error).message, "SH");
    }
    if (res === undefined) return;
    const rest = this.#resParser!.rest;
    if (res.status < 200) return this.#interim(res, rest);
    if (this.#brt!.statuses.has(res.status) && this.#retryBudget()) {
      return this.#serverFailed(String(res.status), 502, `status ${res.status}`, "SH");
    }
    this.#startResponse(res, rest);
  }

  /** 1xx: relay 100/103 to HTTP/1.1 clients (RFC 9110 §15.2), switch on 101. */
  #interim(res: HttpMessage, rest: Buffer | undefined): void {
    if (res.status === 101) {
      if (!this.#upgrade) return this.#serverFailed("junk-response", 502, "101 without an Upgrade request", "SH");
      if (!upgradeAccepted(this.#req!, res)) return this.#serverFailed("junk-response", 502, `101 to "${res.upgrade}", not a protocol the request offered`, "SH");
      return this.#switch(res, rest);
    }
    if (this.#req!.minor === 1) {
      stripHopByHop(res, false);
      const head = res.responseBytes();
      this.#bytesOut += head.length;
      this.socket.write(head);
    }
    if (rest !== undefined) this.onServerData(rest);
  }

  /** Forwards a final response head, and `rest` (bytes that followed it in the same read). */
  #startResponse(res: HttpMessage, rest: Buffer | undefined): void {
    const req = this.#req!;
    const f = this.ctx.frontend;
    const src = this.#brt!.usesSrc || this.fe.compiled!.usesSrc ? this.ctx.client.srcAddress : "";
    if (this.fe.access !== undefined) this.#tr = this.ctx.clock.now() - this.#tSent;
    this.#resMode = responseBodyMode(res, req.method);
    this.#resBody.reset(this.#resMode, res.contentLength);
    this.#serverKeep = !res.connClose && (res.minor === 1 || res.connKeepAlive) && this.#resMode !== "close";
    const brules = this.#brt!.rules;
    if (brules.length) applyRules(brules, res, req, src);
    const frules = this.fe.compiled!.responseRules;
    if (frules.length) applyRules(frules, res, req, src);
    stripHopByHop(res, false);
    if (f.via) addVia(res, res.minor);
    this.#dechunk = this.#resMode === "chunked" && req.minor === 0;
    if (this.#dechunk) res.delete("transfer-encoding");
    if (this.#resMode === "close" || this.#dechunk || !drainable(this.#reqBody, f.limits.drainBody) || this.ctx.retiring?.aborted) this.#keepClient = false;
    if (!this.#keepClient) res.add("Connection", "close");
    else if (req.minor === 0) res.add("Connection", "keep-alive");
    this.#status = res.status;
    this.#responseStarted = true;
    this.#resState = R_BODY;
    // A small Content-Length body that came with the head goes out in the same buffer: one write.
    let tail: Buffer | undefined;
    if (rest !== undefined && (this.#resBody.done || (this.#resMode === "length" && rest.length <= TAIL_MAX))) {
      const end = this.#resBody.feed(rest, 0);
      if (end > 0) tail = end === rest.length ? rest : rest.subarray(0, end);
      if (end < rest.length) this.#serverKeep = false; // bytes after the response: not reusable
      rest = undefined;
    }
    const head = res.responseBytes(tail);
    this.#bytesOut += head.length;
    if (rest === undefined) {
      this.socket.write(head);
      if (this.#resBody.done) this.#responseDone();
      return;
    }
    this.socket.cork();
    this.socket.write(head);
    this.#responseBody(rest);
    this.socket.uncork();
  }

  #responseBody(chunk: Buffer): void {
    let end: number;
    try {
      end = this.#resBody.feed(chunk, 0, this.#dechunk ? this.#sink : undefined);
    } catch (err) {
      this.ctx.log.warn(`Invalid response body from ${this.#serverLabel()}: ${(err as Error).message}`, { frontend: this.ctx.frontend.name });
      return this.#destroy("SD");
    }
    if (!this.#dechunk && end > 0) {
      this.#bytesOut += end;
      if (!this.socket.write(end === chunk.length ? chunk : chunk.subarray(0, end))) this.#pauseServer();
    }
    if (end < chunk.length) this.#serverKeep = false;
    if (this.#resBody.done) this.#responseDone();
  }

  onServerEnd(): void {
    this.#serverGone(true);
  }

  onServerClose(): void {
    this.#serverGone(false);
  }

  #serverGone(fin: boolean): void {
    if (this.#resState === R_HEAD) {
      const empty = this.#resParser!.buffered === 0;
      return this.#serverFailed(empty ? "empty-response" : "junk-response", 502, empty ? "server closed without responding" : "server closed in the middle of the response head", "SH");
    }
    if (this.#resState === R_BODY) {
      if (fin && this.#resBody.end()) return this.#responseDone();
      return this.#destroy("SD");
    }
  }

  onServerDrain(): void {
    if (this.#clientPaused && this.#state === C_BODY) {
      this.#clientPaused = false;
      this.socket.resume();
    }
  }

  onServerTimeout(): void {
    if (this.#resState === R_HEAD) return this.#serverFailed("response-timeout", 504, "timeout server", "sH");
    if (this.#resState === R_BODY || this.#state === C_BODY) return this.#destroy("sD");
  }

  #retryBudget(): boolean {
    return this.#attempts <= this.#backend!.config.retries && this.#canRetry();
  }

  /** The server failed before a response was forwarded: retry when allowed, else answer status. */
  #serverFailed(kind: string, status: number, why: string, term: string): void {
    const conn = this.#conn;
    const server = conn?.server;
    const reused = this.#reused;
    this.#conn = undefined;
    this.#resState = R_NONE;
    this.#connReady = false;
    conn?.destroy();
    this.#releaseSlot();
    if (this.#state === C_CLOSED) return;
    // A pooled connection the server had already closed: always worth one more try (haproxy does).
    const rt = this.#brt!;
    const allowed = reused || rt.kinds.has(kind) || rt.statuses.has(Number(kind)) || (kind === "empty-response" && rt.kinds.has("conn-failure"));
    if (allowed && this.#retryBudget()) {
      this.ctx.log.debug("retrying request", { frontend: this.ctx.frontend.name, server: server?.name, reason: why, attempt: this.#attempts });
      if (server) this.#nextTarget(server);
      this.#dispatch();
      return;
    }
    this.#termination = term;
    this.#sendError(status, why);
  }

  /** 101 Switching Protocols: forward it, then tunnel bytes both ways until both sides close. */
  #switch(res: HttpMessage, rest: Buffer | undefined): void {
    const conn = this.#conn!;
    stripHopByHop(res, true);
    this.#status = 101;
    this.#responseStarted = true;
    const head = res.responseBytes();
    this.#bytesOut += head.length;
    this.socket.write(head);
    if (rest !== undefined) this.socket.write(rest);
    this.#state = C_TUNNEL;
    this.#timer?.cancel();
    const s = this.socket;
    if (this.#reader) this.#reader.onChunk = undefined; // tunnel() takes the reader over
    else s.off("data", this.#onData);
    s.off("end", this.#onEnd);
    s.off("close", this.#onClose);
    s.off("drain", this.#onDrain);
    s.off("timeout", this.#onTimeout);
    s.setTimeout(0);
    const server = conn.detach();
    this.#conn = undefined;
    for (const b of this.#held) server.write(b);
    this.#held = [];
    const slot = this.#slot;
    this.#slot = undefined;
    this.#log();
    const t = this.#backend!.config.timeouts;
    const ft = this.ctx.frontend.timeouts;
    void tunnel(s, server, { client: ft.tunnel ?? ft.client, server: t.tunnel ?? t.server }).done.then(() => {
      conn.server.sockets.forget(server);
      slot?.release();
      this.#unlistenStop();
      this.#done();
    });
  }

  // ---- ends of exchanges ----

  #responseDone(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#resState = R_NONE;
    this.#connReady = false;
    if (conn) {
      if (this.#serverKeep && this.#reqDone && !conn.closed && this.#backend!.config.httpReuse !== "never") {
        if (this.#serverPaused) conn.socket.resume();
        this.#pool.put(conn);
      } else conn.destroy();
    }
    this.#serverPaused = false;
    this.#syncClientTimeout();
    this.#releaseSlot();
    this.#servedBefore = true;
    this.#log();
    this.#next();
  }

  /** After a response: close, drain the rest of the request body, or wait for the next request and replay held bytes. */
  #next(): void {
    if (!this.#reqDone && this.#keepClient && this.#state === C_BODY) {
      this.#drainLeft = this.ctx.frontend.limits.drainBody;
      return this.#resumeClient();
    }
    this.#req = undefined;
    this.#resetExchange();
    if (!this.#keepClient || this.#state === C_CLOSED) return this.#lastRequest || this.#clientEnded ? this.#closeAfterLast() : this.#close();
    this.#state = C_WAIT;
    const t = this.ctx.frontend.timeouts;
    this.#arm(this.ctx.clock.now() + (t.httpKeepAlive > 0 ? t.httpKeepAlive : this.#requestTimeout()));
    if (this.#held.length === 0 || this.#replaying) return this.#resumeClient();
    // Pipelined requests: feed what was held, in order. Local answers may finish requests
    // synchronously (re-entering here); a request that goes to a server holds the rest again.
    this.#replaying = true;
    const list = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (let i = 0; i < list.length; i++) {
      if (this.#state === C_CLOSED || this.#state === C_TUNNEL) break;
      this.#clientData(list[i]);
    }
    this.#replaying = false;
    if (this.#heldBytes <= HOLD_MAX) this.#resumeClient();
  }

  /** A response made here (rules): keep-alive unless a request body is left unread. */
  #local(res: LocalResponse): void {
    const req = this.#req!;
    if (!drainable(this.#reqBody, this.ctx.frontend.limits.drainBody) || this.ctx.retiring?.aborted) this.#keepClient = false;
    const text = serializeLocal(res, { close: !this.#keepClient, keepAlive10: req.minor === 0, head: req.method === "HEAD" });
    this.#status = res.status;
    this.#responseStarted = true;
    this.#bytesOut += text.length;
    this.socket.write(text, "latin1");
    this.#termination = "--";
    this.#log();
    this.#next();
  }

  /** An error page, then close (haproxy closes after its own errors). */
  #sendError(status: number, why: string): void {
    if (this.#conn) {
      this.#conn.destroy();
      this.#conn = undefined;
    }
    this.#releaseSlot();
    if (this.#state === C_CLOSED) return;
    if (this.#responseStarted) return this.#destroy(this.#termination);
    if (this.ctx.log.enabled?.("debug") !== false) this.ctx.log.debug(`${status} to ${this.ctx.client.srcAddress}: ${why}`, { frontend: this.ctx.frontend.name });
    const text = this.fe.pages.get(status);
    this.#status = status;
    this.#responseStarted = true;
    this.#bytesOut += text.length;
    this.socket.write(text, "latin1");
    if (this.#termination === "--") this.#termination = "P-";
    this.#log();
    this.#keepClient = false;
    this.#close();
  }

  /**
   * Ends our side after pending writes. The socket closes when the client closes its side; a
   * client that keeps it open (or keeps trickling bytes) is cut after LINGER_MS, so a slow or
   * hostile client never keeps the frontend slot.
   */
  #close(): void {
    if (this.#lingering) return;
    this.#lingering = true;
    this.#state = C_CLOSED;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.socket.end();
    if (this.socket.destroyed) return;
    this.#clientPaused = false;
    this.socket.resume(); // read and drop until the client's FIN
    this.#timer = this.ctx.clock.setTimeout(() => this.socket.destroy(), LINGER_MS);
  }

  /**
   * The client said the request was its last (or closed its side), and we read everything it sent:
   * once the response is handed to the kernel, close(2) sends it and a FIN, and no later byte of
   * the client can turn that into a reset — no lingering needed (RFC 9112 §9.6 lingers for
   * requests still in flight). Saves a shutdown(2), a timer and a wait for the client's FIN.
   */
  #closeAfterLast(): void {
    const s = this.socket;
    if (this.#lingering || !this.#reqDone || s.writableLength !== 0 || this.#held.length !== 0 || this.#parser.buffered !== 0) return this.#close();
    this.#lingering = true;
    this.#state = C_CLOSED;
    this.#timer?.cancel();
    this.#timer = undefined;
    s.destroy();
  }

  #destroy(term: string): void {
    if (this.#termination === "--") this.#termination = term;
    this.#log();
    if (this.#conn) {
      this.#conn.destroy();
      this.#conn = undefined;
    }
    this.#releaseSlot();
    this.socket.destroy();
  }

  #unlistenStop(): void {
    const stopping = this.ctx.stopping;
    if (stopping !== undefined) HttpSession.#stopSets.get(stopping)?.delete(this);
  }

  #releaseSlot(): void {
    const s = this.#slot;
    if (s) {
      this.#slot = undefined;
      s.release();
    }
  }

  #resetExchange(): void {
    this.#backend = undefined;
    this.#brt = undefined;
    this.#reused = false;
    this.#connReady = false;
    if (this.#early.length !== 0) this.#early = [];
    this.#attempts = 0;
    this.#exclude = undefined;
    this.#prefer = undefined;
    this.#resState = R_NONE;
    this.#serverPaused = false;
    this.#responseStarted = false;
    this.#status = 0;
    this.#bytesOut = 0;
    this.#termination = "--";
    this.#logged = false;
    this.#lastServer = undefined;
    this.#tw = this.#tc = this.#tr = -1;
  }

  #serverLabel(): string {
    return this.#conn ? `${this.#backend?.name}/${this.#conn.server.name}` : String(this.#backend?.name);
  }

  #log(): void {
    const access = this.fe.access;
    const req = this.#req;
    if (access === undefined || this.#logged || (req === undefined && this.#status === 0)) return;
    this.#logged = true;
    const now = this.ctx.clock.now();
    const c = this.ctx.client;
    writeAccess(access, this.fe.format, {
      client: `${c.srcAddress}:${c.srcPort}`,
      frontend: this.ctx.frontend.name,
      backend: this.#backend?.name ?? "-",
      server: this.#lastServer ?? "-",
      status: this.#status || -1,
      bytes: this.#bytesOut,
      method: req?.method ?? "-",
      target: req?.target ?? "<BADREQ>",
      version: req?.minor === 0 ? "HTTP/1.0" : "HTTP/1.1",
      tq: this.#tHead - this.#tStart,
      tw: this.#tw,
      tc: this.#tc,
      tr: this.#tr,
      tt: now - this.#tStart,
      termination: this.#termination,
      retries: Math.max(0, this.#attempts - 1),
    });
  }
}
