// mode tcp: pick a server, connect, and tunnel bytes both ways until both sides are done.

import { ProxyError } from "./errors.ts";
import type { SessionContext } from "./session.ts";
import { tunnel } from "./tunnel.ts";
import { ChunkReader, readerOf } from "./chunk_reader.ts";

/** Bytes read from the client while its server is being chosen/connected; beyond, stop reading. */
const EARLY_DATA_MAX = 64 * 1024;

/**
 * The tcp session handler. While queued or connecting, client bytes are buffered (bounded) so a
 * FIN or reset is seen: a reset always aborts, a FIN aborts only with abort_on_close (haproxy
 * `option abortonclose`); otherwise the FIN is passed on once the server is connected.
 */
export async function tcpSession(ctx: SessionContext): Promise<void> {
  const { socket, client, frontend, log } = ctx;
  const backendName = frontend.defaultBackend;
  const backend = backendName !== undefined ? ctx.backends.get(backendName) : undefined;
  if (!backend) {
    log.error(`Frontend "${frontend.name}" has no backend to send to`, { frontend: frontend.name });
    socket.destroy();
    return;
  }
  const abort = new AbortController();
  // A socket accepted with a ChunkReader keeps early bytes in it (bounded); others through 'data'.
  const reader = readerOf(socket);
  const early: Buffer[] = [];
  let earlyBytes = 0;
  const onData = (chunk: Buffer) => {
    early.push(chunk);
    earlyBytes += chunk.length;
    if (earlyBytes >= EARLY_DATA_MAX) socket.pause();
  };
  const onEnd = () => {
    if (backend.config.abortOnClose) abort.abort();
  };
  const onClose = () => abort.abort();
  if (reader) reader.limit = EARLY_DATA_MAX;
  else socket.on("data", onData);
  socket.once("end", onEnd);
  socket.once("close", onClose);
  socket.on("error", () => {}); // 'close' follows; tunnel() installs its own handlers later
  const onTimeout = () => socket.destroy();
  if (frontend.timeouts.client > 0) socket.setTimeout(frontend.timeouts.client, onTimeout);
  socket.resume();

  let conn;
  try {
    conn = await backend.acquire(client, { signal: abort.signal, reader: reader ? new ChunkReader() : undefined });
  } catch (err) {
    const e = err as ProxyError;
    if (e.code !== "E_ABORTED") {
      log.warn(`Connection from ${client.srcAddress}:${client.srcPort} to "${frontend.name}" closed: ${e.message}`, {
        frontend: frontend.name,
        backend: backend.name,
        code: e.code,
      });
    }
    socket.destroy();
    return;
  } finally {
    if (!reader) socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("close", onClose);
    socket.off("timeout", onTimeout);
  }
  if (socket.destroyed) {
    conn.socket.destroy();
    conn.release();
    return;
  }
  socket.pause();
  for (const chunk of early) conn.socket.write(chunk);
  const t = tunnel(socket, conn.socket, { client: frontend.timeouts.client, server: backend.config.timeouts.server });
  const result = await t.done;
  conn.release();
  log.debug("tcp session closed", {
    frontend: frontend.name,
    backend: backend.name,
    server: conn.server.name,
    client: `${client.srcAddress}:${client.srcPort}`,
    reason: result.reason,
    up: result.bytesToServer,
    down: result.bytesToClient,
    queued: Math.round(conn.queued),
    attempts: conn.attempts,
  });
}
