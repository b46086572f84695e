// Bidirectional byte tunnel between two sockets: backpressure, half-close, idle timeouts.

import type { Conn } from "../runtime/transport.ts";
import { readerOf } from "../runtime/chunk_reader.ts";

/** How a tunnel ended, with byte counts (client→server, server→client). */
export interface TunnelResult {
  reason: "done" | "client_timeout" | "server_timeout" | "client_error" | "server_error" | "killed";
  bytesToServer: number;
  bytesToClient: number;
}

const kTunnel = Symbol("tandem.tunnel");
type TunnelSocket = Conn & { [kTunnel]?: Tunnel };

/**
 * Pipes client ⇄ server until both directions are finished. A FIN from one side is passed on as
 * a FIN (socket.end) while the other direction keeps flowing — both sockets must be created with
 * allowHalfOpen. Idle timeouts (0 = none) count activity per side, reads and writes, as haproxy's
 * `timeout client` / `timeout server` (net's socket timers: one timer list per duration, moved
 * in O(1) on activity). An error or reset on either side closes both.
 * Sockets created with a ChunkReader (chunk_reader.ts) are read through it, others through
 * 'data' events; bytes the reader kept before the tunnel started are sent first.
 * Used by tcp mode for the whole connection and by http mode for Upgrade/CONNECT tunnels.
 */
export function tunnel(client: Conn, server: Conn, timeouts: { client: number; server: number }): { done: Promise<TunnelResult>; kill: () => void } {
  let t!: Tunnel;
  const done = new Promise<TunnelResult>((resolve) => {
    t = new Tunnel(client, server, timeouts, resolve);
  });
  return { done, kill: () => t.kill() };
}

/**
 * The tunnel itself, for callers that want a callback instead of a promise (tcp sessions). Its
 * socket listeners are shared functions that find the tunnel on the socket: a tunnel costs one
 * object, not a dozen closures.
 */
export class Tunnel {
  readonly client: Conn;
  readonly server: Conn;
  reason: TunnelResult["reason"] | undefined = undefined;
  #closed = 0;
  #onDone: (result: TunnelResult) => void;

  /** Starts tunnelling at once; the client socket's 'timeout' is set to timeouts.client here. */
  constructor(client: Conn, server: Conn, timeouts: { client: number; server: number }, onDone: (result: TunnelResult) => void) {
    this.client = client;
    this.server = server;
    this.#onDone = onDone;
    (client as TunnelSocket)[kTunnel] = this;
    (server as TunnelSocket)[kTunnel] = this;
    client.on("close", onClientClose);
    server.on("close", onServerClose);
    client.on("error", onClientError);
    server.on("error", onServerError);
    if (timeouts.client > 0) {
      // Already running with this duration (a tcp session sets it at accept): keep that timer.
      if ((client as Conn & { timeout?: number }).timeout !== timeouts.client) client.setTimeout(timeouts.client);
      client.on("timeout", onClientTimeout);
    }
    if (timeouts.server > 0) {
      server.setTimeout(timeouts.server);
      server.on("timeout", onServerTimeout);
    }
    forward(client, server, this);
    forward(server, client, this);
  }

  /** Closes both sockets now. */
  kill(): void {
    this.finish("killed");
  }

  finish(reason: TunnelResult["reason"]): void {
    this.reason ??= reason;
    this.client.destroy();
    this.server.destroy();
  }

  closed(): void {
    if (++this.#closed < 2) return;
    this.#onDone({ reason: this.reason ?? "done", bytesToServer: this.server.bytesWritten, bytesToClient: this.client.bytesWritten });
  }

  /**
   * src sent its FIN. When the other direction is finished too and nothing is left to write, both
   * close at once (one close(2) each instead of a shutdown(2) and a wait for the peer's close);
   * else the FIN goes on to dst. Decided after the current loop turn's I/O (endsLater), so that
   * both FINs of a connection closing on both sides at once are seen first.
   */
  ended(src: Conn, dst: Conn): void {
    // src may have closed meanwhile (its FIN, our end(): net destroys it); dst still needs the FIN.
    if (dst.destroyed) return;
    if (dst.readableEnded && src.writableLength === 0 && dst.writableLength === 0) this.finish("done");
    else if (!dst.writableEnded) dst.end();
  }
}

function tunnelOf(socket: Conn): Tunnel | undefined {
  return (socket as TunnelSocket)[kTunnel];
}

function onClientClose(this: Conn, hadError: boolean): void {
  const t = tunnelOf(this)!;
  if (hadError || !this.readableEnded) t.finish("client_error");
  else if (!t.server.destroyed && t.server.writableFinished && t.server.readableEnded) t.finish("done");
  t.closed();
}

function onServerClose(this: Conn, hadError: boolean): void {
  const t = tunnelOf(this)!;
  if (hadError || !this.readableEnded) t.finish("server_error");
  else if (!t.client.destroyed && t.client.writableFinished && t.client.readableEnded) t.finish("done");
  t.closed();
}

function onClientError(this: Conn): void {
  tunnelOf(this)!.finish("client_error");
}

function onServerError(this: Conn): void {
  tunnelOf(this)!.finish("server_error");
}

function onClientTimeout(this: Conn): void {
  tunnelOf(this)!.finish("client_timeout");
}

function onServerTimeout(this: Conn): void {
  tunnelOf(this)!.finish("server_timeout");
}

/** 'end' of either socket: decided once this loop turn's reads are done. */
function onEnd(this: Conn): void {
  const t = tunnelOf(this);
  if (!t) return;
  if (endsQueued.length === 0) setImmediate(endsLater);
  endsQueued.push(this);
}

const endsQueued: Conn[] = [];

function endsLater(): void {
  const queued = endsQueued.splice(0);
  for (const src of queued) {
    const t = tunnelOf(src)!;
    t.ended(src, src === t.client ? t.server : t.client);
  }
}

function onDrainResume(this: Conn): void {
  const t = tunnelOf(this)!;
  (this === t.client ? t.server : t.client).resume();
}

/**
 * One direction: src's bytes to dst with backpressure (stop reading src while dst's buffer is
 * over its high-water mark), then src's FIN (see Tunnel.ended).
 */
function forward(src: Conn, dst: Conn, t: Tunnel): void {
  const reader = readerOf(src);
  // Bytes read while the server was being chosen and connected go first.
  if (reader && reader.pendingBytes > 0) for (const chunk of reader.takePending()) dst.write(chunk);
  if (src.readableEnded) {
    t.ended(src, dst);
    return;
  }
  src.on("end", onEnd);
  if (reader) reader.onChunk = dst === t.server ? (chunk) => pushToServer(t, chunk) : (chunk) => pushToClient(t, chunk);
  else {
    src.on("data", (chunk: Buffer) => {
      if (!push(dst, chunk)) src.pause();
    });
  }
  src.resume();
}

function pushToServer(t: Tunnel, chunk: Buffer): boolean {
  return push(t.server, chunk);
}

function pushToClient(t: Tunnel, chunk: Buffer): boolean {
  return push(t.client, chunk);
}

function push(dst: Conn, chunk: Buffer): boolean {
  if (dst.write(chunk)) return true;
  // Reading src stops until dst drains (so at most one of these is pending).
  dst.once("drain", onDrainResume);
  return false;
}
