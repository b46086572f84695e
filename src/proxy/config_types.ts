// The resolved proxy config: frontends and backends after defaults, merges and references.
// Durations are milliseconds, sizes are plain numbers, addresses are parsed.

import type { BaseConfig } from "../config/types.ts";
import type { BindSpec, Cidr } from "../core/address.ts";
import type { BindTlsConfig, ServerTlsConfig } from "../tls/config.ts";

export type Mode = "tcp" | "http";
export type BalanceAlgorithm = "roundrobin" | "static-rr" | "leastconn" | "source" | "random" | "first";

export interface Timeouts {
  connect: number;
  client: number;
  server: number;
  queue: number;
  check?: number;
  httpRequest: number;
  httpKeepAlive: number;
  tunnel?: number;
}

export interface HealthCheckConfig {
  type: "tcp" | "http";
  /** Port/address override; absent = the server's. */
  port?: number;
  address?: string;
  method: string;
  path: string;
  host?: string;
  /** Accepted HTTP status range, inclusive. */
  expectStatus: { min: number; max: number };
  interval: number;
  fastinterval: number;
  downinterval: number;
  timeout: number;
  rise: number;
  fall: number;
}

export interface ServerConfig {
  name: string;
  address: string;
  /** Absent: connect to the port the client connected to. */
  port?: number;
  weight: number;
  maxconn?: number;
  backup: boolean;
  disabled: boolean;
  sendProxy?: "v1" | "v2";
  /** Absent: no health check, the server is always considered up. */
  check?: HealthCheckConfig;
  /** State before the first check result. */
  initState: "up" | "down";
  /** TLS toward the server (and its health checks); absent = plain TCP. */
  tls?: ServerTlsConfig;
}

export interface StickConfig {
  on: "src";
  type: "ip" | "ipv6";
  size: number;
  expire: number;
}

/** A condition for routing/rules; leaves are tests, inner nodes combine them. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { acl: string }
  | { host: string[] }
  | { path: string[]; match: "prefix" | "exact" | "regex" }
  | { header: string; exists?: boolean; equals?: string; regex?: string }
  | { method: string[] }
  | { src: Cidr[] }
  | { query: string; exists?: boolean; equals?: string }
  /** The client connection is TLS (haproxy's ssl_fc). */
  | { tls: boolean }
  /** The server name the client sent in its TLS handshake (haproxy's ssl_fc_sni); "*.x" matches subdomains. */
  | { sni: string[] };

export type HttpRequestAction =
  | { action: "set_header" | "add_header"; name: string; value: string; if?: Condition }
  | { action: "del_header"; name: string; if?: Condition }
  | { action: "replace_header"; name: string; match: string; replace: string; if?: Condition }
  | { action: "deny"; status: number; body?: string; if?: Condition }
  | { action: "redirect"; location?: string; prefix?: string; scheme?: string; code: number; if?: Condition }
  | { action: "return"; status: number; body?: string; contentType?: string; headers?: Record<string, string>; if?: Condition }
  | { action: "set_path"; value: string; if?: Condition };

export type HttpResponseAction =
  | { action: "set_header" | "add_header"; name: string; value: string; if?: Condition }
  | { action: "del_header"; name: string; if?: Condition }
  | { action: "set_status"; status: number; reason?: string; if?: Condition };

export interface BackendConfig {
  name: string;
  mode: Mode;
  balance: { algorithm: BalanceAlgorithm; hash: "map" | "consistent" };
  servers: ServerConfig[];
  stick?: StickConfig;
  persist: boolean;
  redispatch: boolean;
  abortOnClose: boolean;
  retries: number;
  /** Retry idempotent requests on these failures (HTTP mode). */
  retryOn: string[];
  maxconn?: number;
  timeouts: Timeouts;
  onMarkedDown?: "shutdown_sessions";
  httpReuse: "never" | "safe";
  /** Response rules applied in this backend. */
  httpResponse: HttpResponseAction[];
}

export interface ListenAddress extends BindSpec {
  acceptProxy: boolean;
  /** TLS termination on this listener (src/tls/). */
  tls?: BindTlsConfig;
}

export interface FrontendConfig {
  name: string;
  mode: Mode;
  binds: ListenAddress[];
  maxconn?: number;
  timeouts: Timeouts;
  acls: Record<string, Condition>;
  /** First matching rule wins; else defaultBackend. */
  useBackend: { backend: string; if: Condition }[];
  defaultBackend?: string;
  httpRequest: HttpRequestAction[];
  httpResponse: HttpResponseAction[];
  forwardfor: boolean;
  via: boolean;
  accessLog: { enabled: boolean; format: "text" | "json" };
  errorfiles: Record<number, string>;
  /** drainBody: request body bytes read and dropped after an early response, to keep the connection (0: close). */
  limits: { requestLine: number; headerBytes: number; headerCount: number; h2Streams: number; drainBody: number };
  /** Relay `Upgrade: h2c` (RFC 9113 §3.1 retired it; stripped from requests by default). */
  allowH2cUpgrade: boolean;
}

/** The proxy's part of the resolved config. */
export interface ProxyConfig {
  frontends: FrontendConfig[];
  backends: BackendConfig[];
}

/** What the proxy subsystem reads of the resolved config. */
export type ProxySubsystemConfig = BaseConfig & ProxyConfig;
