// The resolved config: what the subsystems receive after parsing, defaults and role overrides.
// Durations are milliseconds, sizes are plain numbers, addresses are parsed.

import type { BindSpec, Cidr } from "../core/address.ts";

export type Role = "master" | "backup";
export type Mode = "tcp" | "http";
export type BalanceAlgorithm = "roundrobin" | "static-rr" | "leastconn" | "source" | "random" | "first";

export interface GlobalConfig {
  maxconn: number;
  pidfile?: string;
  adminSocket?: { path: string; mode: number };
  /** Worker count for the proxy (default: number of CPUs). */
  workers: number;
  /** Where tandem keeps state that must survive a restart (the alert spool). */
  stateDir: string;
  /** Name used in alerts and logs (default: os.hostname()). */
  hostname: string;
  /** Grace period for a graceful stop. */
  gracePeriod: number;
}

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
  | { query: string; exists?: boolean; equals?: string };

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
  limits: { requestLine: number; headerBytes: number; headerCount: number; drainBody: number };
  /** Relay `Upgrade: h2c` (RFC 9113 §3.1 retired it; stripped from requests by default). */
  allowH2cUpgrade: boolean;
}

export interface StatsConfig {
  bind: BindSpec;
  uri: string;
  auth?: { user: string; password: string };
  admin: boolean;
  refresh: number;
}

export interface TrackScript {
  name: string;
  command: string;
  interval: number;
  timeout: number;
  rise: number;
  fall: number;
  /** keepalived semantics: 0 = FAULT on failure; >0 added while passing; <0 added while failing. */
  weight: number;
}

export interface VrrpConfig {
  /** Instance name used in logs and events. */
  name: string;
  routerId: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  advertInterval: number;
  auth?: { type: "pass"; password: string };
  virtualIps: { cidr: Cidr; dev?: string; label?: string }[];
  /** Effective base priority for the running role. */
  priority: number;
  preempt: boolean;
  preemptDelay: number;
  /** keepalived's `state`, kept for compatibility: every instance starts as backup (RFC 5798 §6.4.1). */
  initialState: "master" | "backup";
  unicastSrc?: string;
  unicastPeers: string[];
  track: {
    interfaces: { name: string; weight: number }[];
    proxy?: { weight: number; minServers: number; proxies?: string[] };
    scripts: TrackScript[];
  };
  notify: { master?: string; backup?: string; fault?: string; stop?: string; timeout: number };
  garp: { count: number; interval: number; repeatDelay: number; repeatCount: number; refresh?: number };
}

export interface EmailNotifier {
  name: string;
  type: "email";
  smtp: {
    host: string;
    port: number;
    /** "tls" = implicit TLS; "starttls" = required; "opportunistic" = STARTTLS if offered; "none". */
    security: "none" | "tls" | "starttls" | "opportunistic";
    auth?: { user: string; pass: string; method?: "plain" | "login" };
    connectTimeout: number;
    helo?: string;
    rejectUnauthorized: boolean;
  };
  from: string;
  to: string[];
  retry: RetryPolicy;
}

export interface WebhookNotifier {
  name: string;
  type: "webhook";
  url: string;
  headers: Record<string, string>;
  timeout: number;
  retry: RetryPolicy;
}

export interface RetryPolicy {
  initial: number;
  max: number;
  /** Messages older than this are dropped (with a log line and a counter). */
  maxAge: number;
}

export type NotifierConfig = EmailNotifier | WebhookNotifier;

export type AlertCheck =
  | { vip_held: string }
  | { vip_not_held: string }
  | { server_state: { proxy: string; server: string; state: "up" | "down" } }
  | { tcp_connect: string; timeout: number }
  | { http_get: string; expect: { min: number; max: number }; timeout: number }
  | { command: string; timeout: number };

export interface AlertRule {
  name: string;
  /** Scheduled job: cron (5/6 fields), @every 30s, @hourly... */
  schedule?: string;
  timezone?: string;
  check?: AlertCheck;
  /** Event rule: an event name such as vrrp_state_change or server_down. */
  on?: string;
  filter: { proxy?: string; server?: string; states?: string[] };
  roles?: Role[];
  notify: string[];
  subject?: string;
  message?: string;
  repeat?: number;
  rateLimit?: { count: number; per: number };
  groupWindow: number;
  flap: { window: number; threshold: number };
}

export interface TandemConfig {
  /** The file it came from. */
  file: string;
  role: Role;
  global: GlobalConfig;
  frontends: FrontendConfig[];
  backends: BackendConfig[];
  stats?: StatsConfig;
  vrrp?: VrrpConfig;
  notifiers: NotifierConfig[];
  alerts: AlertRule[];
}
