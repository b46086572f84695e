// The YAML schema of tandem.yaml, section by section. Shapes here; meaning in normalize.ts.

import { z } from "zod";
import { bindText, cidr, duration, fileMode, int, size, statusRange, stringList } from "./schema_types.ts";

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
  weight: int(0, 256).optional(),
  maxconn: int(1, 10_000_000).optional(),
  backup: z.boolean().optional(),
  disabled: z.boolean().optional(),
  send_proxy: z.union([z.boolean(), z.enum(["v1", "v2"])]).optional(),
  check: z.union([z.boolean(), checkSchema]).optional(),
  init_state: z.enum(["up", "down"]).optional(),
});

const stick = obj({
  on: z.literal("src"),
  type: z.enum(["ip", "ipv6"]).optional(),
  size: size.optional(),
  expire: duration.optional(),
});

/** A routing condition: an ACL name ("is_api", "!is_api") or a test, combinable with all/any/not. */
export type ConditionInput =
  | string
  | { all: ConditionInput[] }
  | { any: ConditionInput[] }
  | { not: ConditionInput }
  | Record<string, unknown>;

export const condition: z.ZodType<ConditionInput> = z.lazy(() =>
  z.union([
    z.string(),
    obj({ all: z.array(condition) }),
    obj({ any: z.array(condition) }),
    obj({ not: condition }),
    obj({ host: stringList }),
    obj({ path: stringList }),
    obj({ path_prefix: stringList }),
    obj({ path_regex: z.string() }),
    obj({ header: z.string(), exists: z.boolean().optional(), equals: z.string().optional(), regex: z.string().optional() }),
    obj({ method: stringList }),
    obj({ src: z.union([cidr, z.array(cidr)]) }),
    obj({ query: z.string(), exists: z.boolean().optional(), equals: z.string().optional() }),
  ])
);

const when = { if: condition.optional() };
const headerValue = { name: z.string(), value: z.string() };
const httpRequestRule = z.union([
  obj({ action: z.enum(["set_header", "add_header"]), ...headerValue, ...when }),
  obj({ action: z.literal("del_header"), name: z.string(), ...when }),
  obj({ action: z.literal("replace_header"), name: z.string(), match: z.string(), replace: z.string(), ...when }),
  obj({ action: z.literal("deny"), status: int(200, 599).optional(), body: z.string().optional(), ...when }),
  obj({
    action: z.literal("redirect"),
    location: z.string().optional(),
    prefix: z.string().optional(),
    scheme: z.string().optional(),
    code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).optional(),
    ...when,
  }),
  obj({
    action: z.literal("return"),
    status: int(200, 599).optional(),
    body: z.string().optional(),
    content_type: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ...when,
  }),
  obj({ action: z.literal("set_path"), value: z.string(), ...when }),
]);
const httpResponseRule = z.union([
  obj({ action: z.enum(["set_header", "add_header"]), ...headerValue, ...when }),
  obj({ action: z.literal("del_header"), name: z.string(), ...when }),
  obj({ action: z.literal("set_status"), status: int(100, 599), reason: z.string().optional(), ...when }),
]);

const bind = z.union([bindText, obj({ address: bindText, accept_proxy: z.boolean().optional() })]);

const frontendKeys = {
  mode: z.enum(["tcp", "http"]).optional(),
  bind: z.union([bind, z.array(bind)]),
  maxconn: int(1, 10_000_000).optional(),
  timeout: timeouts.optional(),
  acls: z.record(z.string(), condition).optional(),
  use_backend: z.array(obj({ backend: z.string(), if: condition })).optional(),
  default_backend: z.string().optional(),
  http_request: z.array(httpRequestRule).optional(),
  http_response: z.array(httpResponseRule).optional(),
  forwardfor: z.boolean().optional(),
  via: z.boolean().optional(),
  access_log: z.union([z.boolean(), obj({ format: z.enum(["text", "json"]).optional() })]).optional(),
  errorfiles: z.record(z.string(), z.string()).optional(),
  limits: obj({ request_line: size.optional(), header_bytes: size.optional(), header_count: int(1, 10_000).optional(), drain_body: size.optional() }).optional(),
  allow_h2c_upgrade: z.boolean().optional(),
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
  http_response: z.array(httpResponseRule).optional(),
};

const proxy = obj({ ...frontendKeys, ...backendKeys });
const frontend = obj(frontendKeys);
const backend = obj({ ...backendKeys, maxconn: int(1, 10_000_000).optional() });

const retry = obj({ initial: duration.optional(), max: duration.optional(), max_age: duration.optional() });

const email = obj({
  type: z.literal("email").optional(),
  smtp: obj({
    host: z.string(),
    port: int(1, 65535).optional(),
    security: z.enum(["none", "tls", "starttls", "opportunistic"]).optional(),
    auth: obj({ user: z.string(), pass: z.string(), method: z.enum(["plain", "login"]).optional() }).optional(),
    connect_timeout: duration.optional(),
    helo: z.string().optional(),
    reject_unauthorized: z.boolean().optional(),
  }),
  from: z.string(),
  to: stringList,
  retry: retry.optional(),
});

const webhook = obj({
  type: z.literal("webhook").optional(),
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: duration.optional(),
  retry: retry.optional(),
});

const alertCheck = z.union([
  obj({ vip_held: z.string() }),
  obj({ vip_not_held: z.string() }),
  obj({ server_state: obj({ proxy: z.string(), server: z.string(), state: z.enum(["up", "down"]).optional() }) }),
  obj({ tcp_connect: z.string(), timeout: duration.optional() }),
  obj({ http_get: z.string().url(), expect: obj({ status: statusRange }).optional(), timeout: duration.optional() }),
  obj({ command: z.string(), timeout: duration.optional() }),
]);

export const EVENT_RULE_NAMES = [
  "vrrp_state_change",
  "vrrp_split_brain",
  "server_down",
  "server_up",
  "proxy_no_server",
  "listener_failed",
  "config_reloaded",
  "config_reload_failed",
  "job_failed",
  "tandem_started",
  "tandem_stopping",
  "notify_dropped",
] as const;

const alert = obj({
  name: z.string(),
  schedule: z.string().optional(),
  timezone: z.string().optional(),
  check: alertCheck.optional(),
  on: z.enum(EVENT_RULE_NAMES).optional(),
  filter: obj({ proxy: z.string().optional(), server: z.string().optional(), states: stringList.optional() }).optional(),
  roles: z.array(z.string()).optional(),
  notify: stringList,
  subject: z.string().optional(),
  message: z.string().optional(),
  repeat: duration.optional(),
  rate_limit: obj({ count: int(1, 100_000), per: duration }).optional(),
  group_window: duration.optional(),
  flap: obj({ window: duration, threshold: int(2, 1000) }).optional(),
});

const trackScript = obj({
  command: z.string(),
  interval: duration.optional(),
  timeout: duration.optional(),
  rise: int(1, 100).optional(),
  fall: int(1, 100).optional(),
  weight: int(-253, 253).optional(),
});

/** Keys a role may override inside vrrp.roles.<role>. */
const vrrpRoleKeys = {
  priority: int(1, 255).optional(),
  interface: z.string().optional(),
  preempt: z.boolean().optional(),
  preempt_delay: duration.optional(),
  unicast_src: z.string().optional(),
  unicast_peers: z.array(z.string()).optional(),
  state: z.enum(["master", "backup", "MASTER", "BACKUP"]).optional(),
  address_owner: z.boolean().optional(),
  router_id: z.string().optional(),
};

const vrrp = obj({
  ...vrrpRoleKeys,
  name: z.string().optional(),
  interface: z.string(),
  virtual_router_id: int(1, 255),
  version: z.union([z.literal(2), z.literal(3)]).optional(),
  advert_interval: duration.optional(),
  authentication: obj({ type: z.literal("pass"), password: z.union([z.string(), z.number()]) }).optional(),
  virtual_ips: z.array(z.union([cidr, obj({ address: cidr, dev: z.string().optional(), label: z.string().optional() })])),
  track: obj({
    interfaces: z.array(z.union([z.string(), obj({ name: z.string(), weight: int(-253, 253).optional() })])).optional(),
    proxy: obj({ weight: int(-253, 253).optional(), min_servers: int(0, 10_000).optional(), proxies: z.array(z.string()).optional() }).optional(),
    scripts: z.record(z.string(), trackScript).optional(),
  }).optional(),
  notify: obj({
    master: z.string().optional(),
    backup: z.string().optional(),
    fault: z.string().optional(),
    stop: z.string().optional(),
    timeout: duration.optional(),
  }).optional(),
  garp: obj({
    count: int(0, 100).optional(),
    interval: duration.optional(),
    repeat_delay: duration.optional(),
    repeat_count: int(0, 100).optional(),
    refresh: duration.optional(),
  }).optional(),
  roles: z.record(z.string(), obj(vrrpRoleKeys)),
});

export const configSchema = obj({
  global: obj({
    maxconn: int(1, 10_000_000).optional(),
    pidfile: z.string().optional(),
    admin_socket: z.union([z.string(), obj({ path: z.string(), mode: fileMode.optional() })]).optional(),
    workers: z.union([int(1, 256), z.literal("auto")]).optional(),
    state_dir: z.string().optional(),
    hostname: z.string().optional(),
    grace_period: duration.optional(),
  }).optional(),
  defaults: obj({
    mode: z.enum(["tcp", "http"]).optional(),
    timeout: timeouts.optional(),
    balance: balance.optional(),
    retries: int(0, 100).optional(),
    retry_on: stringList.optional(),
    maxconn: int(1, 10_000_000).optional(),
    redispatch: z.boolean().optional(),
    abort_on_close: z.boolean().optional(),
    forwardfor: z.boolean().optional(),
    check: checkSchema.optional(),
    http_reuse: z.enum(["never", "safe"]).optional(),
    access_log: z.union([z.boolean(), obj({ format: z.enum(["text", "json"]).optional() })]).optional(),
  }).optional(),
  proxies: z.record(z.string(), proxy).optional(),
  frontends: z.record(z.string(), frontend).optional(),
  backends: z.record(z.string(), backend).optional(),
  stats: obj({
    bind: bindText,
    uri: z.string().optional(),
    auth: obj({ user: z.string(), password: z.string() }).optional(),
    admin: z.boolean().optional(),
    refresh: duration.optional(),
  }).optional(),
  vrrp: vrrp.optional(),
  notify: z.record(z.string(), z.union([email, webhook])).optional(),
  alerts: z.array(alert).optional(),
});

/** Sections validated entry by entry, so one bad entry does not hide the others' problems. */
export const ENTRY_SCHEMAS: Record<string, { kind: "record" | "list"; entry: z.ZodType }> = {
  proxies: { kind: "record", entry: proxy },
  frontends: { kind: "record", entry: frontend },
  backends: { kind: "record", entry: backend },
  notify: { kind: "record", entry: z.union([email, webhook]) },
  alerts: { kind: "list", entry: alert },
};

export type ConfigInput = z.output<typeof configSchema>;
