// The YAML schema of the proxy's keys: defaults, proxies, frontends, backends. Meaning in config.ts.

import { z } from "zod";
import { bindText, cidr, duration, int, size, statusRange, stringList } from "../config/schema_types.ts";
import { conditionSchema, httpRequestRuleSchema, httpResponseRuleSchema } from "./http/rules_config.ts";
import { MAX_WEIGHT } from "./weight.ts";
import { bindTlsSchema, serverTlsSchema } from "../tls/config.ts";

const obj = z.strictObject;

const timeouts = obj({
  connect: duration.optional(),
  client: duration.optional(),
  server: duration.optional(),
  queue: duration.optional(),
  check: duration.optional(),
  http_request: duration.optional(),
  http_keep_alive: duration.optional(),
  tunnel: duration.optional(),
  tarpit: duration.optional(),
});

const algorithm = z.enum(["roundrobin", "static-rr", "leastconn", "source", "random", "first"]);
const balance = z.union([algorithm, obj({ algorithm, hash: z.enum(["map", "consistent"]).optional() })]);

export const checkSchema = obj({
  type: z.enum(["tcp", "http"]).optional(),
  port: int(1, 65535).optional(),
  address: z.string().optional(),
  method: z.string().optional(),
  path: z.string().optional(),
  host: z.string().optional(),
  expect: obj({ status: statusRange }).optional(),
  interval: duration.optional(),
  fastinterval: duration.optional(),
  downinterval: duration.optional(),
  timeout: duration.optional(),
  rise: int(1, 100).optional(),
  fall: int(1, 100).optional(),
});

const server = obj({
  address: z.string({ error: "every server needs an address" }),
  port: int(1, 65535).optional(),
  weight: int(0, MAX_WEIGHT).optional(),
  maxconn: int(1, 10_000_000).optional(),
  backup: z.boolean().optional(),
  disabled: z.boolean().optional(),
  send_proxy: z.union([z.boolean(), z.enum(["v1", "v2"])]).optional(),
  check: z.union([z.boolean(), checkSchema]).optional(),
  init_state: z.enum(["up", "down"]).optional(),
  tls: serverTlsSchema.optional(),
  cookie: z.string().optional(),
});

const stick = obj({
  on: z.literal("src"),
  type: z.enum(["ip", "ipv6"]).optional(),
  size: size.optional(),
  expire: duration.optional(),
});

/** Stick counters per client address (haproxy stick-table ... store ... with track-sc0 src). */
const counters = obj({
  track: z.enum(["request", "connection"]).optional(),
  size: size.optional(),
  expire: duration.optional(),
  http_req_rate: duration.optional(),
  conn_rate: duration.optional(),
  http_err_rate: duration.optional(),
  conn_cur: z.boolean().optional(),
});

/** Cookie persistence (haproxy `cookie NAME insert|prefix|rewrite ...`). */
const cookie = obj({
  name: z.string(),
  mode: z.enum(["insert", "prefix", "rewrite"]).optional(),
  indirect: z.boolean().optional(),
  nocache: z.boolean().optional(),
  preserve: z.boolean().optional(),
  httponly: z.boolean().optional(),
  secure: z.boolean().optional(),
  postonly: z.boolean().optional(),
  domain: stringList.optional(),
});

/** `userlists: { NAME: { users: { u: { password | insecure_password, groups } }, groups: { g: [users] } } }`. */
export const userlistSchema = obj({
  users: z.record(z.string(), obj({ password: z.string().optional(), insecure_password: z.string().optional(), groups: stringList.optional() })),
  groups: z.record(z.string(), stringList).optional(),
});

/** `forwardfor: true`, or which X-Forwarded-* fields and for which clients (haproxy's `option forwardfor except`). */
const forwardfor = z.union([z.boolean(), obj({ except: z.union([cidr, z.array(cidr)]).optional(), headers: z.array(z.enum(["for", "proto", "host"])).optional() })]);

const bind = z.union([bindText, obj({ address: bindText, accept_proxy: z.boolean().optional(), tls: bindTlsSchema.optional() })]);
const accessLog = z.union([z.boolean(), obj({ format: z.enum(["text", "json"]).optional() })]);

const frontendKeys = {
  mode: z.enum(["tcp", "http"]).optional(),
  bind: z.union([bind, z.array(bind)]),
  maxconn: int(1, 10_000_000).optional(),
  timeout: timeouts.optional(),
  acls: z.record(z.string(), conditionSchema).optional(),
  use_backend: z.array(obj({ backend: z.string(), if: conditionSchema })).optional(),
  default_backend: z.string().optional(),
  http_request: z.array(httpRequestRuleSchema).optional(),
  http_response: z.array(httpResponseRuleSchema).optional(),
  forwardfor: forwardfor.optional(),
  via: z.boolean().optional(),
  access_log: accessLog.optional(),
  errorfiles: z.record(z.string(), z.string()).optional(),
  limits: obj({ request_line: size.optional(), header_bytes: size.optional(), header_count: int(1, 10_000).optional(), h2_streams: int(1, 10_000).optional(), drain_body: size.optional() }).optional(),
  allow_h2c_upgrade: z.boolean().optional(),
  monitor_uri: z.string().optional(),
  counters: counters.optional(),
};

const backendKeys = {
  mode: z.enum(["tcp", "http"]).optional(),
  balance: balance.optional(),
  servers: z.record(z.string(), server),
  stick: stick.optional(),
  persist: z.boolean().optional(),
  redispatch: z.boolean().optional(),
  abort_on_close: z.boolean().optional(),
  retries: int(0, 100).optional(),
  retry_on: stringList.optional(),
  maxconn: int(1, 10_000_000).optional(),
  timeout: timeouts.optional(),
  check: checkSchema.optional(),
  on_marked_down: z.literal("shutdown_sessions").optional(),
  http_reuse: z.enum(["never", "safe"]).optional(),
  http_response: z.array(httpResponseRuleSchema).optional(),
  http_request: z.array(httpRequestRuleSchema).optional(),
  acls: z.record(z.string(), conditionSchema).optional(),
  errorfiles: z.record(z.string(), z.string()).optional(),
  cookie: cookie.optional(),
};

export const proxySchema = obj({ ...frontendKeys, ...backendKeys });
export const frontendSchema = obj(frontendKeys);
export const backendSchema = obj(backendKeys);

export const defaultsSchema = obj({
  mode: z.enum(["tcp", "http"]).optional(),
  timeout: timeouts.optional(),
  balance: balance.optional(),
  retries: int(0, 100).optional(),
  retry_on: stringList.optional(),
  maxconn: int(1, 10_000_000).optional(),
  redispatch: z.boolean().optional(),
  abort_on_close: z.boolean().optional(),
  forwardfor: forwardfor.optional(),
  check: checkSchema.optional(),
  http_reuse: z.enum(["never", "safe"]).optional(),
  access_log: accessLog.optional(),
});

export type ProxyInput = z.output<typeof proxySchema>;
export type UserlistInput = z.output<typeof userlistSchema>;
export type FrontendInput = z.output<typeof frontendSchema>;
export type BackendInput = z.output<typeof backendSchema>;
export type DefaultsInput = z.output<typeof defaultsSchema>;
export type CheckInput = z.output<typeof checkSchema>;
