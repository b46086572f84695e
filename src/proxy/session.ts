// The contract between a frontend and a mode-specific session handler (tcp, http).

import type { FrontendConfig, ListenAddress, Mode } from "./config_types.ts";
import type { Clock } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { Conn } from "../runtime/transport.ts";
import type { ClientInfo } from "./accepted_client.ts";
import type { Backend } from "./backend.ts";
import type { StopGroup } from "./stop_group.ts";
import type { TlsInfo } from "../tls/info.ts";
import type { LocalServices } from "./http/request_env.ts";
import type { SourceTracking } from "./source_tracking.ts";

/** Everything a session handler gets for one accepted client connection. */
export interface SessionContext {
  /** The client socket, flowing-mode not yet started, PROXY header already consumed. */
  socket: Conn;
  client: ClientInfo;
  frontend: FrontendConfig;
  /** The bind line the client connected through (its tls: settings). */
  bind?: ListenAddress;
  /** Set when tandem terminated TLS on this connection (socket is then the TLS socket). */
  tls?: TlsInfo;
  /** The backends of the config that was current when the connection was accepted. */
  backends: ReadonlyMap<string, Backend>;
  clock: Clock;
  bus: EventBus;
  log: Logger;
  /** Stopped when tandem stops: finish the exchange in progress, close idle connections now. */
  stops?: StopGroup;
  /**
   * Aborted when this frontend is retired by a reload (and when tandem stops): keep no client
   * connection alive after its current or next response. An idle one is not closed at once: a
   * request may already be on its way, and closing under it is an error for that client.
   */
  retiring?: AbortSignal;
  /** What the handler's prepare() built for this frontend (once per config, not per connection). */
  prepared?: unknown;
  /** The client address's stick counters (frontends with counters:). */
  tracking?: SourceTracking;
  /** Services other layers registered (the stats page). */
  services?: LocalServices;
}

/**
 * Handles one client connection from accept to close; the promise settles when the session is
 * over (the frontend's connection slot is held until then). Must never reject on bad input or a
 * dead server: close the connection and log instead.
 */
export type SessionHandler = ((ctx: SessionContext) => Promise<void>) & {
  /** The handler reads the client socket through its ChunkReader (chunk_reader.ts) when it has one. */
  readsChunks?: boolean;
  /**
   * The same session without a promise, for the frontend's hot path: calls `done(ctx.socket)`
   * exactly once when the session is over. Its ctx.client reads the socket's addresses on first
   * use (getpeername/getsockname only when something needs them), so read them while the socket
   * is open.
   */
  run?: (ctx: SessionContext, done: (socket: Conn) => void) => void;
  /** Builds what every session of a frontend shares (compiled rules...): once per frontend config. */
  prepare?: (frontend: FrontendConfig, log: Logger) => unknown;
};

/** Session handlers by frontend mode. */
export type SessionHandlers = Partial<Record<Mode, SessionHandler>>;
