// What the access log says about the current request, filled in by the session and its exchange.

import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/log.ts";
import type { ClientInfo } from "../accepted_client.ts";
import { writeAccess } from "./access_log.ts";
import type { HttpMessage } from "./message.ts";

/**
 * One per session, reset per request. Timers are clock ms; -1: that phase did not happen. The
 * phase timers are only read when access logging is on (no clock reads per request without it).
 */
export class RequestLog {
  status = 0;
  /** Bytes sent to the client for this request (head + body). */
  bytes = 0;
  /** haproxy's two-letter termination state: "--" normally (docs/operations.md). */
  termination = "--";
  /** A response (head) was sent to the client: an error can no longer be answered with a page. */
  started = false;
  backend: string | undefined = undefined;
  server: string | undefined = undefined;
  attempts = 0;
  logged = false;
  /** The client's protocol when not HTTP/1.x (HTTP/2.0); HTTP/1.x is read from the request. */
  version: string | undefined = undefined;
  tStart = 0;
  tHead = 0;
  tw = -1;
  tc = -1;
  tSent = 0;
  tr = -1;

  /** A new request on the connection (the start time is kept: set by the session). */
  reset(): void {
    this.status = 0;
    this.bytes = 0;
    this.termination = "--";
    this.started = false;
    this.backend = undefined;
    this.server = undefined;
    this.attempts = 0;
    this.logged = false;
    this.tw = this.tc = this.tr = -1;
  }

  /** Sets the termination state unless one is set already. */
  end(termination: string): void {
    if (this.termination === "--") this.termination = termination;
  }

  /** Writes the line once (no line for a connection that never sent a request). */
  write(access: Logger, format: "text" | "json", ctx: { frontend: { name: string }; client: ClientInfo; clock: Clock }, req: HttpMessage | undefined): void {
    if (this.logged || (req === undefined && this.status === 0)) return;
    this.logged = true;
    const client = ctx.client;
    const now = ctx.clock.now();
    writeAccess(access, format, {
      client: `${client.srcAddress}:${client.srcPort}`,
      frontend: ctx.frontend.name,
      backend: this.backend ?? "-",
      server: this.server ?? "-",
      status: this.status || -1,
      bytes: this.bytes,
      method: req?.method ?? "-",
      target: req?.target ?? "<BADREQ>",
      version: this.version ?? (req?.minor === 0 ? "HTTP/1.0" : "HTTP/1.1"),
      tq: this.tHead - this.tStart,
      tw: this.tw,
      tc: this.tc,
      tr: this.tr,
      tt: now - this.tStart,
      termination: this.termination,
      retries: Math.max(0, this.attempts - 1),
    });
  }
}
