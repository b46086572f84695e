// Bidirectional byte tunnel between two sockets: backpressure, half-close, idle timeouts.

import type { Socket } from "node:net";

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
 * `timeout client` / `timeout server`. An error or reset on either side closes both.
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
    client.setTimeout(timeouts.client, () => finish("client_timeout"));
    server.setTimeout(timeouts.server, () => finish("server_timeout"));
    // pipe() ends the destination on the source's 'end': that is the half-close hand-over.
    // A side that already sent its FIN (while the server was being connected) is passed on now.
    if (client.readableEnded) server.end();
    else client.pipe(server);
    if (server.readableEnded) client.end();
    else server.pipe(client);
  });
  return { done, kill: () => kill() };
}
