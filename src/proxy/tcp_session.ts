// mode tcp: pick a server, connect, and tunnel bytes both ways until both sides are done.

import type { Conn } from "../runtime/transport.ts";
import { ChunkReader, readerOf } from "../runtime/chunk_reader.ts";
import type { Backend } from "./backend.ts";
import type { BackendConnection, OpenWaiter } from "./opening.ts";
import type { ProxyError } from "./errors.ts";
import type { SessionContext } from "./session.ts";
import { Tunnel } from "./tunnel.ts";
import type { TunnelResult } from "./tunnel.ts";

/** Bytes read from the client while its server is being chosen/connected; beyond, stop reading. */
const EARLY_DATA_MAX = 64 * 1024;

/**
 * The tcp session handler. While queued or connecting, client bytes are buffered (bounded) so a
 * FIN or reset is seen: a reset always aborts, a FIN aborts only with abort_on_close (haproxy
 * `option abortonclose`); otherwise the FIN is passed on once the server is connected.
 */
export function tcpSession(ctx: SessionContext): Promise<void> {
  return new Promise((resolve) => runTcpSession(ctx, () => resolve()));
}

/**
 * tcpSession without a promise (SessionHandler.run): one session object, shared listener
 * functions, the client's idle timer set once, the server reached through Backend.open.
 */
export function runTcpSession(ctx: SessionContext, done: (socket: Conn) => void): void {
  const { socket, frontend, log } = ctx;
  const backendName = frontend.defaultBackend;
  const backend = backendName !== undefined ? ctx.backends.get(backendName) : undefined;
  if (!backend) {
    log.error(`Frontend "${frontend.name}" has no backend to send to`, { frontend: frontend.name });
    socket.destroy();
    done(socket);
    return;
  }
  new TcpSession(ctx, backend, done).start();
}
tcpSession.run = runTcpSession;

const kSession = Symbol("tandem.tcpSession");
type SessionSocket = Conn & { [kSession]?: TcpSession };
const ignore = () => {};

class TcpSession implements OpenWaiter {
  readonly ctx: SessionContext;
  readonly backend: Backend;
  readonly done: (socket: Conn) => void;
  /** Client bytes of a socket without a ChunkReader, while connecting. */
  early: Buffer[] | undefined = undefined;
  earlyBytes = 0;
  opening: { cancel(): void } | undefined = undefined;
  conn: BackendConnection | undefined = undefined;
  debug: boolean;

  constructor(ctx: SessionContext, backend: Backend, done: (socket: Conn) => void) {
    this.ctx = ctx;
    this.backend = backend;
    this.done = done;
    // The end-of-session line names the client: read its address while the socket is open.
    this.debug = ctx.log.enabled?.("debug") ?? true;
    if (this.debug) void ctx.client.srcAddress;
  }

  start(): void {
    const socket = this.ctx.socket as SessionSocket;
    socket[kSession] = this;
    const reader = readerOf(socket);
    // A socket accepted with a ChunkReader keeps early bytes in it (bounded); others through 'data'.
    if (reader) reader.limit = EARLY_DATA_MAX;
    else socket.on("data", onEarlyData);
    socket.on("end", onClientEnd);
    socket.on("close", onClientClose);
    if (socket.listenerCount("error") === 0) socket.on("error", ignore); // 'close' follows
    const client = this.ctx.frontend.timeouts.client;
    if (client > 0) {
      socket.setTimeout(client);
      socket.on("timeout", onClientTimeout);
    }
    socket.resume();
    this.opening = this.backend.open(this.ctx.client, { reader: reader ? new ChunkReader() : undefined }, this);
  }

  opened(err: ProxyError | undefined, conn: BackendConnection | undefined): void {
    const { socket, client, frontend, log } = this.ctx;
    this.opening = undefined;
    if (!readerOf(socket)) {
      socket.off("data", onEarlyData);
      socket.pause();
    }
    socket.off("end", onClientEnd);
    socket.off("close", onClientClose);
    socket.off("timeout", onClientTimeout);
    if (err || !conn) {
      if (err && err.code !== "E_ABORTED") {
        log.warn(`Connection from ${client.srcAddress}:${client.srcPort} to "${frontend.name}" closed: ${err.message}`, {
          frontend: frontend.name,
          backend: this.backend.name,
          code: err.code,
        });
      }
      socket.destroy();
      this.done(socket);
      return;
    }
    if (socket.destroyed) {
      conn.socket.destroy();
      conn.release();
      this.done(socket);
      return;
    }
    if (this.early) {
      for (const chunk of this.early) conn.socket.write(chunk);
      this.early = undefined;
    }
    this.conn = conn;
    new Tunnel(socket, conn.socket, { client: frontend.timeouts.client, server: this.backend.config.timeouts.server }, (result) => this.closed(result));
  }

  closed(result: TunnelResult): void {
    const conn = this.conn!;
    conn.release();
    if (this.debug) {
      const { client, frontend } = this.ctx;
      this.ctx.log.debug("tcp session closed", {
        frontend: frontend.name,
        backend: this.backend.name,
        server: conn.server.name,
        client: `${client.srcAddress}:${client.srcPort}`,
        reason: result.reason,
        up: result.bytesToServer,
        down: result.bytesToClient,
        queued: Math.round(conn.queued),
        attempts: conn.attempts,
      });
    }
    this.done(this.ctx.socket);
  }
}

function sessionOf(socket: Conn): TcpSession {
  return (socket as SessionSocket)[kSession]!;
}

function onEarlyData(this: Conn, chunk: Buffer): void {
  const s = sessionOf(this);
  (s.early ??= []).push(chunk);
  s.earlyBytes += chunk.length;
  if (s.earlyBytes >= EARLY_DATA_MAX) this.pause();
}

function onClientEnd(this: Conn): void {
  const s = sessionOf(this);
  if (s.backend.config.abortOnClose) s.opening?.cancel();
}

function onClientClose(this: Conn): void {
  sessionOf(this).opening?.cancel();
}

function onClientTimeout(this: Conn): void {
  this.destroy();
}
