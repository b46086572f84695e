// The proxy's status: what services.proxy.status() returns, for the stats page, metrics, the
// runtime API and the sum over worker processes. Written once, here.

import type { Mode } from "./config_types.ts";
import type { CheckResult } from "./health_state.ts";
import type { ServerState } from "./server.ts";
import type { TlsStats } from "../tls/info.ts";

export interface ServerStatus {
  name: string;
  /** "address:port" as configured. */
  address: string;
  state: ServerState;
  weight: number;
  backup: boolean;
  /** Connections holding a slot now, ever served, waiting in its queue. */
  active: number;
  total: number;
  queued: number;
  /** Last check result as text ("L7OK 200 OK"), undefined before the first. */
  check?: string;
  maxActive: number;
  maxconn?: number;
  /** Bytes sent to / received from the server. */
  bytesIn: number;
  bytesOut: number;
  connectErrors: number;
  /** Wall ms of the last state change (0: never changed). */
  lastChange: number;
  downs: number;
  checked: boolean;
  lastCheck?: CheckResult;
  checks: number;
  checkFailures: number;
}

export interface BackendStatus {
  name: string;
  active: number;
  queued: number;
  stickEntries: number;
  servers: ServerStatus[];
}

export interface ListenerStatus {
  address: string;
  bound: boolean;
  /** Why it is not bound yet (waiting for the VIP). */
  waiting?: string;
}

export interface FrontendStatus {
  name: string;
  mode: Mode;
  active: number;
  total: number;
  /** Connections accepted but held by maxconn. */
  held: number;
  bytesIn: number;
  bytesOut: number;
  listeners: ListenerStatus[];
}

export interface ProxyStatus {
  connections: number;
  maxconn: number;
  /** With workers: their count and the connections each process accepted (main first). */
  workers?: number;
  acceptedPerWorker?: number[];
  frontends: FrontendStatus[];
  backends: BackendStatus[];
  /** TLS termination of this process (src/tls/). */
  tls?: TlsStats;
}
