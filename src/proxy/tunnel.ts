// Bidirectional byte tunnel between two sockets: backpressure, half-close, idle timeouts.

import type { Socket } from "node:net";
import { readerOf } from "./chunk_reader.ts";

/** How a tunnel ended, with byte counts (client→server, server→client). */
export interface TunnelResult {
  reason: "done" | "client_timeout" | "server_timeout" | "client_error" | "server_error" | "killed";
  bytesToServer: number;
  bytesToClient: number;
}

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
export function tunnel(client: Socket, server: Socket, timeouts: { client: number; server: number }): { done: Promise<TunnelResult>; kill: () => void } {
  let reason: TunnelResult["reason"] | undefined;
  let kill = () => {};
  const done = new Promise<TunnelResult>((resolve) => {
    let closed = 0;
    const finish = (r: TunnelResult["reason"]) => {
      reason ??= r;
      client.destroy();
      server.destroy();
    };
    kill = () => finish("killed");
    const onClose = () => {
      if (++closed < 2) return;
      client.setTimeout(0);
      server.setTimeout(0);
      resolve({ reason: reason ?? "done", bytesToServer: server.bytesWritten, bytesToClient: client.bytesWritten });
    };
    client.on("close", (hadError) => {
      if (hadError || !client.readableEnded) finish("client_error");
      else if (!server.destroyed && server.writableFinished && server.readableEnded) finish("done");
      onClose();
    });
    server.on("close", (hadError) => {
      if (hadError || !server.readableEnded) finish("server_error");
      else if (!client.destroyed && client.writableFinished && client.readableEnded) finish("done");
      onClose();
    });
    client.on("error", () => finish("client_error"));
    server.on("error", () => finish("server_error"));
    if (timeouts.client > 0) client.setTimeout(timeouts.client, () => finish("client_timeout"));
    if (timeouts.server > 0) server.setTimeout(timeouts.server, () => finish("server_timeout"));
    forward(client, server, () => finish("done"));
    forward(server, client, () => finish("done"));
  });
  return { done, kill: () => kill() };
}

/**
 * One direction: src's bytes to dst with backpressure (stop reading src while dst's buffer is
 * over its high-water mark), then src's FIN as dst.end(). When the other direction has already
 * finished, nothing is left to wait for: `bothDone` closes both at once (one close(2) each
 * instead of a shutdown(2) and a wait for the peer's close).
 */
function forward(src: Socket, dst: Socket, bothDone: () => void): void {
  const onEnd = () => {
    if (dst.readableEnded && src.writableFinished && dst.writableLength === 0) bothDone();
    else dst.end();
  };
  const reader = readerOf(src);
  // Bytes read while the server was being chosen and connected go first.
  if (reader) for (const chunk of reader.takePending()) dst.write(chunk);
  if (src.readableEnded) {
    onEnd();
    return;
  }
  src.once("end", onEnd);
  let onDrain: (() => void) | undefined;
  const push = (chunk: Buffer): boolean => {
    if (dst.write(chunk)) return true;
    onDrain ??= () => src.resume();
    dst.once("drain", onDrain);
    return false;
  };
  if (reader) reader.onChunk = push;
  else {
    src.on("data", (chunk: Buffer) => {
      if (!push(chunk)) src.pause();
    });
  }
  src.resume();
}
