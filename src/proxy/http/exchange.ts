// mode http, the response side: one request's trip to a server and back — a connection through
// Backend.open (slot, pooled or new, retries), the request out, the response head and body back
// to the client, 1xx interim responses and the 101 switch.

import type { Conn } from "../../runtime/transport.ts";
import { ChunkReader } from "../../runtime/chunk_reader.ts";
import type { Backend } from "../backend.ts";
import type { ProxyError } from "../errors.ts";
import type { BackendConnection, Opening, OpenWaiter } from "../opening.ts";
import { RetryPlan } from "../retry_plan.ts";
import type { SessionContext } from "../session.ts";
import { BodyDecoder, responseBodyMode } from "./body.ts";
import { responsePersistence } from "./cookie_persistence.ts";
import type { Persistence } from "./cookie_persistence.ts";
import type { BodyMode } from "./body.ts";
import { addVia, stripHopByHop, upgradeAccepted } from "./forward_headers.ts";
import type { HttpMessage } from "./message.ts";
import { HeadParser } from "./parser.ts";
import { ServerConn } from "./server_conn.ts";
import type { ServerConnOwner } from "./server_conn.ts";
import type { RequestLog } from "./request_log.ts";
import { applyRules } from "./rules.ts";
import type { FrontendRuntime } from "./runtime.ts";
import type { RequestEnv } from "./request_env.ts";
import { responseStep } from "./states.ts";
import type { ResponseEvent, ResponseState } from "./states.ts";

/** Client bytes held while a server is chosen; beyond, the client is paused. */
export const HOLD_MAX = 64 * 1024;
/** Body bytes that arrive with a response head up to this size are sent in the head's buffer. */
const TAIL_MAX = 16 * 1024;

/** What an exchange needs of its session (the client side). */
export interface ExchangeOwner {
  readonly ctx: SessionContext;
  readonly fe: FrontendRuntime;
  readonly log: RequestLog;
  /** What response rules read besides the request (client, counters). */
  readonly env: RequestEnv;
  /** The request in flight. */
  readonly req: HttpMessage | undefined;
  /**
   * The client takes the response as a head and its payload (an HTTP/2 stream), not as HTTP/1.1
   * bytes: the head goes through respond() and the body arrives de-chunked through write().
   */
  readonly payloadOnly?: boolean;
  /** Writes to the client, counting the bytes; false: the client's buffer is full. */
  write(data: Buffer): boolean;
  /** payloadOnly: sends the final response head; false when the client cannot take it. */
  respond?(res: HttpMessage, endStream: boolean): boolean;
  /** A final response head is about to go out: decides keep-alive and sets its Connection field. */
  finalHead(res: HttpMessage, mustClose: boolean): void;
  /** The response went out whole. */
  responseDone(): void;
  /** Nothing of a response went out and none will: answer status and close. */
  failed(status: number, why: string): void;
  /** The response broke after it started: cut the client connection. */
  broken(termination: string): void;
  /** The server may take more request body (it connected, or drained). */
  serverWritable(): void;
  /** The server side paused or resumed because the client is slow to read. */
  serverPausedChanged(): void;
  /** 101 forwarded: tunnel the client with server; release() when the tunnel ends. */
  switched(server: Conn, release: () => void): void;
}

/** How the request may be handled, decided by the session from the request head. */
export interface ExchangeRequest {
  backend: Backend;
  /** The head as it goes to the server. */
  head: Buffer;
  /** The request has no body and an idempotent method: it can be sent again. */
  repeatable: boolean;
  /** A response was served on this client connection before (http_reuse safe). */
  servedBefore: boolean;
  upgrade: boolean;
  /** Read new server connections through a ChunkReader (the client is read through one). */
  reader: boolean;
  /** What the request's persistence cookie said (backends with cookie:). */
  persist?: Persistence;
}

/**
 * The server side of the current request. One per session, reused request after request; all
 * callbacks of the server connection come here through ServerConnOwner.
 */
export class Exchange implements ServerConnOwner, OpenWaiter {
  readonly #owner: ExchangeOwner;
  #state: ResponseState = "none";
  #req: ExchangeRequest | undefined = undefined;
  readonly #plan = new RetryPlan(0, false);
  #opening: Opening | undefined = undefined;
  #waiting = false;
  #conn: ServerConn | undefined = undefined;
  #slot: BackendConnection | undefined = undefined;
  #early: Buffer[] = [];
  #earlyBytes = 0;
  /** The whole request body was received from the client. */
  reqDone = false;
  #reused = false;
  #resParser: HeadParser | undefined;
  readonly #resBody = new BodyDecoder(502);
  #resMode: BodyMode = "none";
  #serverKeep = false;
  #dechunk = false;
  /** The server socket is paused because the client is slow to read. */
  serverPaused = false;
  #sink = (b: Buffer, s: number, e: number) => {
    if (!this.#owner.write(b.subarray(s, e))) this.#pauseServer();
  };

  constructor(owner: ExchangeOwner) {
    this.#owner = owner;
  }

  /** A server connection, a slot or an opening is held. */
  get busy(): boolean {
    return this.#conn !== undefined || this.#slot !== undefined || this.#opening !== undefined;
  }

  get backend(): Backend | undefined {
    return this.#req?.backend;
  }

  /** Sends a routed request: gets a connection (retrying per the backend) and writes the head. */
  start(req: ExchangeRequest, reqDone: boolean): void {
    this.#req = req;
    this.reqDone = reqDone;
    this.#plan.reset(req.backend.config.retries, req.backend.config.redispatch);
    this.#dispatch();
  }

  /** Request body bytes from the client; false: stop reading the client for now. */
  body(part: Buffer): boolean {
    if (this.#state !== "none" && this.#conn) return this.#conn.socket.write(part);
    this.#early.push(part);
    this.#earlyBytes += part.length;
    return this.#earlyBytes <= HOLD_MAX;
  }

  /** The client drained what it was sent: the server may send more. */
  clientDrained(): void {
    if (this.serverPaused && this.#conn) {
      this.serverPaused = false;
      this.#conn.socket.resume();
      this.#owner.serverPausedChanged();
    }
  }

  /** The client is gone or the session ends the request: drop the server side now. */
  abort(): void {
    const opening = this.#opening;
    this.#opening = undefined;
    this.#waiting = false;
    opening?.cancel();
    if (this.#conn) {
      const conn = this.#conn;
      this.#conn = undefined;
      conn.destroy();
    }
    this.#releaseSlot();
    this.#to("failed");
  }

  /** Forgets the finished request. */
  reset(): void {
    this.#req = undefined;
    this.#reused = false;
    if (this.#early.length !== 0) this.#early = [];
    this.#earlyBytes = 0;
    this.serverPaused = false;
    this.#state = "none";
  }

  /** Moves along RESPONSE_TRANSITIONS; a transition the table does not have is a bug, logged. */
  #to(event: ResponseEvent): void {
    const next = responseStep(this.#state, event);
    if (next === undefined) this.#owner.ctx.log.error(`http exchange: no transition from "${this.#state}" on "${event}"`, { frontend: this.#owner.ctx.frontend.name });
    this.#state = next ?? "none";
  }

  // ---- a connection: Backend.open ----

  /**
   * http_reuse safe (haproxy's meaning, widened): an idle connection may carry any request but
   * the first of a session — or the first too when it can be retried on a fresh connection if
   * the idle one turns out closed, so reuse never costs the client an error.
   */
  #reuseAllowed(): boolean {
    const r = this.#req!;
    if (r.backend.config.httpReuse === "never" || r.upgrade) return false;
    return r.servedBefore || this.#canRetry();
  }

  /** A request may be sent again: nothing of the response sent yet, and repeatable. */
  #canRetry(): boolean {
    return !this.#owner.log.started && this.reqDone && this.#req!.repeatable;
  }

  /** A free slot and a pooled connection (the keep-alive case) take no promise and no microtask. */
  #dispatch(): void {
    const r = this.#req!;
    this.#waiting = true;
    const opening = r.backend.open(this.#owner.ctx.client, { reuse: this.#reuseAllowed(), plan: this.#plan, reader: r.reader ? new ChunkReader() : undefined, persist: r.persist?.server }, this);
    if (this.#waiting) this.#opening = opening;
  }

  opened(err: ProxyError | undefined, conn: BackendConnection | undefined): void {
    this.#waiting = false;
    this.#opening = undefined;
    const owner = this.#owner;
    const log = owner.log;
    if (err || !conn) {
      if (err?.code === "E_ABORTED" || this.#req === undefined) return;
      log.attempts = this.#plan.attempts;
      if (err?.server !== undefined) log.server = err.server;
      log.termination = err?.code === "E_QUEUE_TIMEOUT" ? "sQ" : err?.code === "E_CONNECT_TIMEOUT" ? "sC" : "SC";
      return owner.failed(503, err?.message ?? "no server");
    }
    if (this.#req === undefined) {
      // Defensive: abort() cancels the opening, so no connection should arrive after it.
      conn.socket.destroy();
      conn.release();
      return;
    }
    this.#slot = conn;
    log.server = conn.server.name;
    log.attempts = conn.attempts;
    if (log.tw < 0) log.tw = conn.queued;
    this.#reused = conn.reused !== undefined;
    if (conn.reused) {
      if (log.tc < 0) log.tc = 0;
      return this.#send(conn.reused as ServerConn);
    }
    log.tc = conn.connectTime;
    this.#send(new ServerConn(conn.socket, conn.server, this.#req.backend));
  }

  #send(conn: ServerConn): void {
    this.#conn = conn;
    conn.owner = this;
    conn.requests++;
    this.#to("sent");
    (this.#resParser ??= new HeadParser("response", this.#owner.fe.responseLimits)).reset();
    const s = conn.socket;
    const head = this.#req!.head;
    const early = this.#early;
    if (early.length === 0) s.write(head);
    else {
      s.cork();
      s.write(head);
      for (let i = 0; i < early.length; i++) s.write(early[i]);
      s.uncork();
      this.#early = [];
      this.#earlyBytes = 0;
    }
    if (this.#owner.fe.access !== undefined) this.#owner.log.tSent = this.#owner.ctx.clock.now();
    this.#owner.serverWritable();
  }

  // ---- the response ----

  onServerData(chunk: Buffer): void {
    if (this.#state === "body") return this.#responseBody(chunk);
    if (this.#state !== "head") {
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
    if (this.#req!.backend.http.statuses.has(res.status) && this.#retryBudget()) {
      return this.#serverFailed(String(res.status), 502, `status ${res.status}`, "SH");
    }
    this.#startResponse(res, rest);
  }

  /** 1xx: relay 100/103 to HTTP/1.1 clients (RFC 9110 §15.2), switch on 101. */
  #interim(res: HttpMessage, rest: Buffer | undefined): void {
    if (res.status === 101) {
      if (!this.#req!.upgrade) return this.#serverFailed("junk-response", 502, "101 without an Upgrade request", "SH");
      if (!upgradeAccepted(this.#owner.req!, res)) return this.#serverFailed("junk-response", 502, `101 to "${res.upgrade}", not a protocol the request offered`, "SH");
      return this.#switch(res, rest);
    }
    if (!this.#owner.payloadOnly && this.#owner.req!.minor === 1) {
      stripHopByHop(res, false);
      this.#owner.write(res.responseBytes());
    }
    if (rest !== undefined) this.onServerData(rest);
  }

  /** Forwards a final response head, and `rest` (bytes that followed it in the same read). */
  #startResponse(res: HttpMessage, rest: Buffer | undefined): void {
    const owner = this.#owner;
    const req = owner.req!;
    const f = owner.ctx.frontend;
    const r = this.#req!;
    const brt = r.backend.http;
    const env = owner.env;
    const log = owner.log;
    if (owner.fe.access !== undefined) log.tr = owner.ctx.clock.now() - log.tSent;
    this.#resMode = responseBodyMode(res, req.method);
    this.#resBody.reset(this.#resMode, res.contentLength);
    this.#serverKeep = !res.connClose && (res.minor === 1 || res.connKeepAlive) && this.#resMode !== "close";
    const cookie = r.backend.config.cookie;
    if (cookie !== undefined && this.#conn) responsePersistence(res, req, cookie, this.#conn.server, r.persist);
    if (brt.rules.length) applyRules(brt.rules, res, req, env);
    const frules = owner.fe.compiled!.responseRules;
    if (frules.length) applyRules(frules, res, req, env);
    stripHopByHop(res, false);
    if (f.via) addVia(res, res.minor);
    const payloadOnly = owner.payloadOnly === true;
    this.#dechunk = this.#resMode === "chunked" && (req.minor === 0 || payloadOnly);
    if (this.#dechunk) res.delete("transfer-encoding");
    // The client side adds what the rest of a request body allows (drained or not).
    owner.finalHead(res, this.#resMode === "close" || this.#dechunk);
    log.status = res.status;
    log.started = true;
    this.#to("final_head");
    if (payloadOnly) {
      if (!owner.respond!(res, this.#resBody.done)) return this.#broken("SH");
      if (this.#resBody.done) return this.#responseDone();
      if (rest !== undefined) this.#responseBody(rest);
      return;
    }
    // A small Content-Length body that came with the head goes out in the same buffer: one write.
    let tail: Buffer | undefined;
    if (rest !== undefined && (this.#resBody.done || (this.#resMode === "length" && rest.length <= TAIL_MAX))) {
      const end = this.#resBody.feed(rest, 0);
      if (end > 0) tail = end === rest.length ? rest : rest.subarray(0, end);
      if (end < rest.length) this.#serverKeep = false; // bytes after the response: not reusable
      rest = undefined;
    }
    const head = res.responseBytes(tail);
    if (rest === undefined) {
      owner.write(head);
      if (this.#resBody.done) this.#responseDone();
      return;
    }
    const client = owner.ctx.socket;
    client.cork();
    owner.write(head);
    this.#responseBody(rest);
    client.uncork();
  }

  #responseBody(chunk: Buffer): void {
    let end: number;
    try {
      end = this.#resBody.feed(chunk, 0, this.#dechunk ? this.#sink : undefined);
    } catch (err) {
      const ctx = this.#owner.ctx;
      ctx.log.warn(`Invalid response body from ${this.#serverLabel()}: ${(err as Error).message}`, { frontend: ctx.frontend.name });
      return this.#broken("SD");
    }
    if (!this.#dechunk && end > 0) {
      if (!this.#owner.write(end === chunk.length ? chunk : chunk.subarray(0, end))) this.#pauseServer();
    }
    if (end < chunk.length) this.#serverKeep = false;
    if (this.#resBody.done) this.#responseDone();
  }

  #pauseServer(): void {
    if (!this.serverPaused && this.#conn) {
      this.serverPaused = true;
      this.#conn.socket.pause();
      this.#owner.serverPausedChanged();
    }
  }

  onServerEnd(): void {
    this.#serverGone(true);
  }

  onServerClose(): void {
    this.#serverGone(false);
  }

  #serverGone(fin: boolean): void {
    if (this.#state === "head") {
      const empty = this.#resParser!.buffered === 0;
      return this.#serverFailed(empty ? "empty-response" : "junk-response", 502, empty ? "server closed without responding" : "server closed in the middle of the response head", "SH");
    }
    if (this.#state === "body") {
      if (fin && this.#resBody.end()) return this.#responseDone();
      return this.#broken("SD");
    }
  }

  onServerDrain(): void {
    this.#owner.serverWritable();
  }

  onServerTimeout(): void {
    if (this.#state === "head") return this.#serverFailed("response-timeout", 504, "timeout server", "sH");
    if (this.#state === "body" || !this.reqDone) return this.#broken("sD");
  }

  #retryBudget(): boolean {
    return this.#plan.canRetry && this.#canRetry();
  }

  /** The server failed before a response was forwarded: retry when allowed, else answer status. */
  #serverFailed(kind: string, status: number, why: string, term: string): void {
    const conn = this.#conn;
    const server = conn?.server;
    const reused = this.#reused;
    this.#conn = undefined;
    this.#to("failed");
    conn?.destroy();
    this.#releaseSlot();
    const owner = this.#owner;
    // A pooled connection the server had already closed: always worth one more try (haproxy does).
    const rt = this.#req!.backend.http;
    const allowed = reused || rt.kinds.has(kind) || rt.statuses.has(Number(kind)) || (kind === "empty-response" && rt.kinds.has("conn-failure"));
    if (allowed && this.#retryBudget()) {
      owner.ctx.log.debug("retrying request", { frontend: owner.ctx.frontend.name, server: server?.name, reason: why, attempt: this.#plan.attempts });
      if (server) this.#plan.failed(server);
      this.#reused = false;
      this.#dispatch();
      return;
    }
    owner.log.termination = term;
    owner.failed(status, why);
  }

  #broken(term: string): void {
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.destroy();
    this.#releaseSlot();
    this.#to("failed");
    this.#owner.broken(term);
  }

  /** 101 Switching Protocols: forward it, then hand both sockets to the session's tunnel. */
  #switch(res: HttpMessage, rest: Buffer | undefined): void {
    const conn = this.#conn!;
    const owner = this.#owner;
    stripHopByHop(res, true);
    owner.log.status = 101;
    owner.log.started = true;
    owner.write(res.responseBytes());
    if (rest !== undefined) owner.write(rest);
    const server = conn.detach();
    this.#conn = undefined;
    const slot = this.#slot;
    this.#slot = undefined;
    this.#to("done");
    owner.switched(server, () => {
      conn.server.sockets.forget(server);
      slot?.releaseSlot();
    });
  }

  /** The response is complete: the server connection goes back to the pool or closes. */
  #responseDone(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#to("done");
    if (conn) {
      if (this.#serverKeep && this.reqDone && !conn.closed && this.#req!.backend.config.httpReuse !== "never") {
        if (this.serverPaused) conn.socket.resume();
        this.#req!.backend.idle.put(conn);
      } else conn.destroy();
    }
    this.serverPaused = false;
    this.#releaseSlot();
    this.#owner.responseDone();
  }

  #releaseSlot(): void {
    const s = this.#slot;
    if (s) {
      this.#slot = undefined;
      s.releaseSlot();
    }
  }

  #serverLabel(): string {
    const b = this.#req?.backend.name;
    return this.#conn ? `${b}/${this.#conn.server.name}` : String(b);
  }
}
