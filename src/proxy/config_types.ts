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
  /** How long `tarpit` holds a request before answering (haproxy `timeout tarpit`; default: connect). */
  tarpit: number;
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
  /** The value of the backend's persistence cookie that names this server (haproxy `cookie`). */
  cookie?: string;
}

export interface StickConfig {
  on: "src";
  type: "ip" | "ipv6";
  size: number;
  expire: number;
}

/** Stick counters a frontend keeps per client address (haproxy stick-table `store`, `track-sc0 src`). */
export type CounterName = "http_req_rate" | "conn_rate" | "conn_cur" | "http_err_rate";

export interface CountersConfig {
  /**
   * request: every request is tracked (haproxy `http-request track-sc0 src`: conn_rate and
   * conn_cur count requests); connection: every connection (`tcp-request connection track-sc0 src`).
   */
  track: "request" | "connection";
  size: number;
  expire: number;
  /** Periods (ms) of the rates kept; a counter not listed is not kept. */
  httpReqRate?: number;
  connRate?: number;
  httpErrRate?: number;
  connCur: boolean;
}

/** One userlist (haproxy `userlist`): users with crypt(3) hashes or plain passwords, and groups. */
export interface UserlistConfig {
  name: string;
  users: Record<string, { password?: string; insecurePassword?: string; groups: string[] }>;
}

/** Cookie persistence of a backend (haproxy `cookie`). */
export interface CookieConfig {
  name: string;
  mode: "insert" | "prefix" | "rewrite";
  indirect: boolean;
  nocache: boolean;
  preserve: boolean;
  httponly: boolean;
  secure: boolean;
  postonly: boolean;
  domain: string[];
}

/** A condition for routing/rules; leaves are tests, inner nodes combine them. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { acl: string }
  | { host: string[] }
  | { path: string[]; match: "prefix" | "exact" | "regex" }
  /** equals: any of the values; ignoreCase compares them case-insensitively (haproxy `hdr(NAME) -i`). */
  | { header: string; exists?: boolean; equals?: string[]; regex?: string; ignoreCase?: boolean }
  | { method: string[] }
  | { src: Cidr[] }
  | { query: string; exists?: boolean; equals?: string }
  /** The client connection is TLS (haproxy's ssl_fc). */
  | { tls: boolean }
  /** The server name the client sent in its TLS handshake (haproxy's ssl_fc_sni); "*.x" matches subdomains. */
  | { sni: string[] }
  /** Basic credentials valid in a userlist (haproxy http_auth / http_auth_group). */
  | { httpAuth: string; groups?: string[] }
  /** A stick counter of the client's address (the frontend's counters:) compared with a number. */
  | { counter: CounterName; op: "gt" | "ge" | "lt" | "le" | "eq"; value: number };

/**
 * http_request actions. Values of set_header/add_header/set_path/replace_path's replace may hold
 * `%[fetch,converter...]` expressions (proxy/http/sample.ts).
 */
export type HttpRequestAction =
  | { action: "set_header" | "add_header"; name: string; value: string; if?: Condition }
  | { action: "del_header"; name: string; if?: Condition }
  | { action: "replace_header"; name: string; match: string; replace: string; if?: Condition }
  | { action: "deny"; status: number; body?: string; if?: Condition }
  /** appendSlash / dropQuery: haproxy's append-slash and drop-query (prefix and scheme redirects). */
  | { action: "redirect"; location?: string; prefix?: string; scheme?: string; code: number; appendSlash?: boolean; dropQuery?: boolean; if?: Condition }
  | { action: "return"; status: number; body?: string; contentType?: string; headers?: Record<string, string>; if?: Condition }
  | { action: "set_path"; value: string; if?: Condition }
  /** The whole path becomes `replace` when `match` matches it (haproxy replace-path). */
  | { action: "replace_path"; match: string; replace: string; if?: Condition }
  /** Stops the list's rules: the request goes on to routing. */
  | { action: "allow"; if?: Condition }
  /** 401 with `WWW-Authenticate: Basic realm` (haproxy `http-request auth`). */
  | { action: "auth"; realm: string; if?: Condition }
  /** Holds the request for timeout.tarpit, then answers status and closes (haproxy `tarpit`). */
  | { action: "tarpit"; status: number; if?: Condition }
  /** The stats page (and `;csv`, `;json`) for paths under uri, served by the admin layer. */
  | { action: "stats"; uri: string; refresh?: number; if?: Condition };

export type HttpResponseAction =
  | { action: "set_header" | "add_header"; name: string; value: string; if?: Condition }
  | { action: "del_header"; name: string; if?: Condition }
  | { action: "replace_header"; name: string; match: string; replace: string; if?: Condition }
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
  /** Request rules applied once a request is routed here, after the frontend's. */
  httpRequest: HttpRequestAction[];
  acls: Record<string, Condition>;
  /** Error pages of requests routed here (a backend made of an errorfile serves it as a 503). */
  errorfiles: Record<number, string>;
  cookie?: CookieConfig;
  /** The userlists, for http_auth conditions (the same object as ProxyConfig.userlists). */
  userlists: Readonly<Record<string, UserlistConfig>>;
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
  /** With forwardfor: clients that get no X-Forwarded-For, and whether -Proto and -Host are set too. */
  forwarded: { except: Cidr[]; proto: boolean; host: boolean };
  via: boolean;
  accessLog: { enabled: boolean; format: "text" | "json" };
  errorfiles: Record<number, string>;
  /** drainBody: request body bytes read and dropped after an early response, to keep the connection (0: close). */
  limits: { requestLine: number; headerBytes: number; headerCount: number; h2Streams: number; drainBody: number };
  /** Relay `Upgrade: h2c` (RFC 9113 §3.1 retired it; stripped from requests by default). */
  allowH2cUpgrade: boolean;
  /** A request for exactly this URI gets 200 before any rule (haproxy monitor-uri). */
  monitorUri?: string;
  /** Stick counters per client address, for `counter` conditions. */
  counters?: CountersConfig;
  /** The userlists, for http_auth conditions (the same object as ProxyConfig.userlists). */
  userlists: Readonly<Record<string, UserlistConfig>>;
}

/** The proxy's part of the resolved config. */
export interface ProxyConfig {
  frontends: FrontendConfig[];
  backends: BackendConfig[];
  userlists: Record<string, UserlistConfig>;
}

/** What the proxy subsystem reads of the resolved config. */
export type ProxySubsystemConfig = BaseConfig & ProxyConfig;
