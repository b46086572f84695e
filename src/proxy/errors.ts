// Errors of the proxy engine, with stable codes that HTTP mode maps to 502/503/504.

import { TandemError } from "../core/errors.ts";

export type ProxyErrorCode =
  | "E_NO_SERVER" // no usable server in the backend (HTTP 503)
  | "E_QUEUE_TIMEOUT" // waited `timeout queue` for a slot (HTTP 503)
  | "E_CONNECT" // connection refused/reset/unreachable after retries (HTTP 503)
  | "E_CONNECT_TIMEOUT" // `timeout connect` expired after retries (HTTP 503; haproxy sC)
  | "E_ABORTED" // the client went away while waiting
  | "E_BIND" // a listener could not bind
  | "E_WORKER" // a proxy worker process could not start
  | "E_CONFIG"; // a config the engine cannot run

/** An error of the proxy engine; `server` names the last server tried, if any. */
export class ProxyError extends TandemError {
  readonly server: string | undefined;
  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown; server?: string }) {
    super(code, message, options);
    this.name = "ProxyError";
    this.server = options?.server;
  }
}
