// One client's stick counters in its frontend's table (counters:): connections and requests
// counted as haproxy's `track-sc0 src` counts them.

import type { Clock } from "../core/clock.ts";
import type { ClientInfo } from "./accepted_client.ts";
import type { CountersConfig } from "./config_types.ts";
import type { StickCounters } from "./stick_counters.ts";
import type { StickTable } from "./stick_table.ts";

/**
 * Counts for one client connection. With `track: connection` (haproxy `tcp-request connection
 * track-sc0 src`) conn_rate and conn_cur count connections; with `track: request` (`http-request
 * track-sc0 src`, measured against haproxy 2.6) they count requests, as each request starts
 * tracking anew. http_req_rate counts each request when it arrives (before any rule, so a rule
 * sees the request it is deciding on); http_err_rate each response with a 4xx status.
 */
export class SourceTracking {
  readonly #table: StickTable;
  readonly #config: CountersConfig;
  readonly #client: ClientInfo;
  readonly #clock: Clock;
  #connection: StickCounters | undefined;
  #request: StickCounters | undefined;

  constructor(table: StickTable, config: CountersConfig, client: ClientInfo, clock: Clock) {
    this.#table = table;
    this.#config = config;
    this.#client = client;
    this.#clock = clock;
  }

  /** A connection was accepted (the frontend calls it). */
  opened(): void {
    if (this.#config.track !== "connection") return;
    const c = (this.#connection = this.#table.track(this.#client.srcAddress));
    c.connCur++;
    c.conn?.add(this.#clock.now());
  }

  /** The connection ended. */
  closed(): void {
    this.requestEnded(0);
    if (this.#connection) this.#connection.connCur--;
    this.#connection = undefined;
  }

  /** A request arrived: counted, and its counters returned for the conditions. */
  requestStarted(): StickCounters {
    const now = this.#clock.now();
    const c = this.#table.track(this.#client.srcAddress);
    if (this.#config.track === "request") {
      this.requestEnded(0);
      this.#request = c;
      c.connCur++;
      c.conn?.add(now);
    }
    c.httpReq?.add(now);
    return c;
  }

  /** The request got its response (status 0: none was sent). */
  requestEnded(status: number): void {
    const c = this.#request ?? this.#connection;
    if (status >= 400 && status < 500) (c ?? this.#table.track(this.#client.srcAddress)).httpErr?.add(this.#clock.now());
    if (this.#request) {
      this.#request.connCur--;
      this.#request = undefined;
    }
  }
}
