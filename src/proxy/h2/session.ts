// An HTTP/2 client connection (RFC 9113) on a TLS socket: node:http2 frames it, each stream becomes an H2Exchange.

import { constants, createServer } from "node:http2";
import type { Http2Server, Http2Session, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import type { FrontendConfig } from "../config_types.ts";
import type { SessionContext } from "../session.ts";
import { frontendRuntime } from "../http/runtime.ts";
import type { FrontendRuntime } from "../http/runtime.ts";
import { H2Stream } from "./stream.ts";

/**
 * Flood limits (not in the config: they bound abuse, not use). nghttp2 counts RST_STREAM frames
 * the client sends (token bucket: burst, then rate per second) and answers a flood with GOAWAY
 * ENHANCE_YOUR_CALM (the rapid-reset attack, CVE-2023-44487); it also closes a session after
 * too many invalid frames or refused streams. Our own count: streams the client reset before
 * their response ended, which cost a server connection each.
 */
export const H2_LIMITS = {
  resetBurst: 200,
  resetRate: 50,
  invalidFrames: 100,
  rejectedStreams: 100,
  /** Client resets of unfinished streams per connection that end it (GOAWAY ENHANCE_YOUR_CALM). */
  abortedStreams: 1000,
  /** nghttp2's memory budget per connection, MB (HPACK tables, queued frames). */
  sessionMemory: 10,
  settingsEntries: 32,
  outstandingPings: 10,
} as const;

/** Counters of every HTTP/2 connection of this process (stats). */
export const h2Stats = { sessions: 0, streams: 0, clientResets: 0, calmed: 0 };

let captured: ServerHttp2Session | undefined;

/**
 * The http2 server object of a frontend, used only to make sessions (never listening): the
 * frontend's limits become SETTINGS (RFC 9113 §6.5.2): concurrent streams, header list size.
 */
function serverFor(f: FrontendConfig, fe: FrontendRuntime): Http2Server {
  if (fe.h2 !== undefined) return fe.h2 as Http2Server;
  const s = createServer({
    settings: {
      maxConcurrentStreams: f.limits.h2Streams,
      maxHeaderListSize: f.limits.headerBytes,
      enablePush: false,
    },
    maxHeaderListPairs: f.limits.headerCount + 8,
    maxSessionMemory: H2_LIMITS.sessionMemory,
    maxSessionInvalidFrames: H2_LIMITS.invalidFrames,
    maxSessionRejectedStreams: H2_LIMITS.rejectedStreams,
    maxSettings: H2_LIMITS.settingsEntries,
    maxOutstandingPings: H2_LIMITS.outstandingPings,
    streamResetBurst: H2_LIMITS.resetBurst,
    streamResetRate: H2_LIMITS.resetRate,
  } as Parameters<typeof createServer>[0]);
  s.on("session", (session: ServerHttp2Session) => {
    captured = session;
  });
  fe.h2 = s;
  return s;
}

/**
 * Serves one HTTP/2 connection (the TLS socket in ctx.socket, ALPN h2) until it closes, then
 * calls done once. Every stream is routed like an HTTP/1.1 request (same rules, ACLs, backends,
 * stick tables, access log) and relayed to its server as HTTP/1.1. A stopping or retired frontend
 * sends GOAWAY and lets the open streams finish (RFC 9113 §6.8).
 */
export function h2Session(ctx: SessionContext, done: () => void): void {
  // The frontend's compiled rules (SessionHandler.prepare of its http handler), built once per config.
  const fe = (ctx.prepared as FrontendRuntime | undefined) ?? frontendRuntime(ctx.frontend, ctx.log);
  const server = serverFor(ctx.frontend, fe);
  captured = undefined;
  server.emit("connection", ctx.socket);
  const session = captured as ServerHttp2Session | undefined;
  captured = undefined;
  if (session === undefined) {
    ctx.socket.destroy();
    return done();
  }
  h2Stats.sessions++;
  let active = 0;
  let aborted = 0;
  let ended = false;
  const onRetire = () => {
    if (!session.closed && !session.destroyed) session.close();
  };
  const stoppable = { onStopping: onRetire };
  const finish = () => {
    if (ended) return;
    ended = true;
    ctx.retiring?.removeEventListener("abort", onRetire);
    ctx.stops?.delete(stoppable);
    done();
  };
  // Retired by a reload or stopping: GOAWAY, and the open streams finish (RFC 9113 §6.8).
  ctx.retiring?.addEventListener("abort", onRetire, { once: true });
  ctx.stops?.add(stoppable);
  if (ctx.retiring?.aborted || ctx.stops?.stopped) onRetire();

  session.on("stream", (stream: ServerHttp2Stream, _headers: unknown, flags: number, raw: string[]) => {
    h2Stats.streams++;
    active++;
    const x = new H2Stream(ctx, fe, stream, raw, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
    x.onEnd = (clientAborted) => {
      active--;
      if (!clientAborted) return;
      h2Stats.clientResets++;
      if (++aborted > H2_LIMITS.abortedStreams && !session.destroyed) {
        h2Stats.calmed++;
        ctx.log.warn(`HTTP/2 connection from ${ctx.client.srcAddress} reset ${aborted} streams: closing it`, { frontend: ctx.frontend.name });
        session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.destroy();
      }
    };
    x.start();
  });
  session.on("error", (err: Error) => ctx.log.debug(`HTTP/2 connection from ${ctx.client.srcAddress}: ${err.message}`, { frontend: ctx.frontend.name }));
  session.on("frameError", () => {});
  session.on("close", finish);
  // Idle: no stream for `timeout http_keep_alive` (else `timeout client`) closes the connection.
  const t = ctx.frontend.timeouts;
  const idle = t.httpKeepAlive > 0 ? t.httpKeepAlive : t.client;
  if (idle > 0) {
    session.setTimeout(idle, () => {
      if (active === 0) closeNow(session);
    });
  }
}

function closeNow(session: Http2Session): void {
  session.close();
  // A peer that does not close its side after GOAWAY is not waited for.
  setTimeout(() => session.destroy(), 1000).unref();
}
