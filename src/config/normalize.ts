// From the parsed YAML to the resolved TandemConfig for one role: defaults, merges, references.

import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import { isIP } from "node:net";
import type { ConfigInput, ConditionInput } from "./schema.ts";
import type { Diagnostics, Path } from "./diagnostics.ts";
import type { WrittenNames } from "./loader.ts";
import type {
  AlertCheck, AlertRule, BackendConfig, Condition, FrontendConfig, HealthCheckConfig, HttpRequestAction,
  HttpResponseAction, ListenAddress, NotifierConfig, Role, ServerConfig, TandemConfig, Timeouts, VrrpConfig,
} from "./types.ts";
import type { Cidr } from "../core/address.ts";
import { parseHostPort } from "../core/address.ts";
import { DEFAULTS } from "./defaults.ts";
import { didYouMean } from "./suggest.ts";
import { validateSchedule } from "./schedule.ts";
import { checkVrrp } from "./vrrp_checks.ts";

type ProxyInput = NonNullable<ConfigInput["proxies"]>[string];
type FrontendInput = NonNullable<ConfigInput["frontends"]>[string];
type BackendInput = NonNullable<ConfigInput["backends"]>[string];
type CheckInput = NonNullable<ConfigInput["defaults"]>["check"];

export const ROLES: readonly Role[] = ["master", "backup"];

function timeoutsOf(input: ConfigInput, own: ProxyInput["timeout"]): Timeouts {
  const d = { ...input.defaults?.timeout, ...own };
  const connect = d.connect ?? DEFAULTS.timeout.connect;
  const httpRequest = d.http_request ?? DEFAULTS.timeout.httpRequest;
  return {
    connect,
    client: d.client ?? DEFAULTS.timeout.client,
    server: d.server ?? DEFAULTS.timeout.server,
    queue: d.queue ?? connect,
    check: d.check,
    httpRequest,
    httpKeepAlive: d.http_keep_alive ?? httpRequest,
    tunnel: d.tunnel,
  };
}

function healthCheck(base: CheckInput, own: CheckInput, timeouts: Timeouts): HealthCheckConfig {
  const c = { ...base, ...own };
  const interval = c.interval ?? DEFAULTS.check.interval;
  return {
    type: c.type ?? (c.path || c.expect || c.method ? "http" : "tcp"),
    port: c.port,
    address: c.address,
    method: c.method ?? DEFAULTS.check.method,
    path: c.path ?? DEFAULTS.check.path,
    host: c.host,
    expectStatus: c.expect?.status ?? { ...DEFAULTS.check.expect },
    interval,
    fastinterval: c.fastinterval ?? interval,
    downinterval: c.downinterval ?? interval,
    timeout: c.timeout ?? timeouts.check ?? Math.min(interval, timeouts.connect),
    rise: c.rise ?? DEFAULTS.check.rise,
    fall: c.fall ?? DEFAULTS.check.fall,
  };
}

/** Resolves a condition written in YAML; ACL names are checked against acls. */
function condition(c: ConditionInput, acls: Set<string>, path: Path, diag: Diagnostics): Condition {
  if (typeof c === "string") {
    const neg = c.startsWith("!");
    const name = c.replace(/^!\s*/, "");
    if (!acls.has(name)) diag.error(path, `unknown ACL "${name}"`, didYouMean(name, acls) ?? (acls.size ? `defined ACLs: ${[...acls].join(", ")}` : "define it under acls:"));
    return neg ? { not: { acl: name } } : { acl: name };
  }
  const o = c as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : [String(v)]);
  if ("all" in o) return { all: (o.all as ConditionInput[]).map((x, i) => condition(x, acls, [...path, "all", i], diag)) };
  if ("any" in o) return { any: (o.any as ConditionInput[]).map((x, i) => condition(x, acls, [...path, "any", i], diag)) };
  if ("not" in o) return { not: condition(o.not as ConditionInput, acls, [...path, "not"], diag) };
  if ("host" in o) return { host: list(o.host).map((h) => h.toLowerCase()) };
  if ("path" in o) return { path: list(o.path), match: "exact" };
  if ("path_prefix" in o) return { path: list(o.path_prefix), match: "prefix" };
  if ("path_regex" in o) {
    try {
      new RegExp(String(o.path_regex));
    } catch (err) {
      diag.error([...path, "path_regex"], `invalid regular expression: ${(err as Error).message}`);
    }
    return { path: [String(o.path_regex)], match: "regex" };
  }
  if ("header" in o) {
    if (o.regex !== undefined) {
      try {
        new RegExp(String(o.regex));
      } catch (err) {
        diag.error([...path, "regex"], `invalid regular expression: ${(err as Error).message}`);
      }
    }
    return { header: String(o.header).toLowerCase(), exists: o.exists as boolean | undefined, equals: o.equals as string | undefined, regex: o.regex as string | undefined };
  }
  if ("method" in o) return { method: list(o.method).map((m) => m.toUpperCase()) };
  if ("src" in o) return { src: (Array.isArray(o.src) ? o.src : [o.src]) as Cidr[] };
  return { query: String(o.query), exists: o.exists as boolean | undefined, equals: o.equals as string | undefined };
}

function requestRules(rules: FrontendInput["http_request"], acls: Set<string>, path: Path, diag: Diagnostics): HttpRequestAction[] {
  return (rules ?? []).map((r, i) => {
    const when = r.if === undefined ? undefined : condition(r.if, acls, [...path, i, "if"], diag);
    switch (r.action) {
      case "deny":
        return { action: "deny", status: r.status ?? 403, body: r.body, if: when };
      case "redirect":
        if ([r.location, r.prefix, r.scheme].filter((x) => x !== undefined).length !== 1) {
          diag.error([...path, i], "a redirect needs exactly one of location, prefix or scheme");
        }
        return { action: "redirect", location: r.location, prefix: r.prefix, scheme: r.scheme, code: r.code ?? 302, if: when };
      case "return":
        return { action: "return", status: r.status ?? 200, body: r.body, contentType: r.content_type, headers: r.headers, if: when };
      default:
        return { ...r, if: when } as HttpRequestAction;
    }
  });
}

function responseRules(rules: FrontendInput["http_response"], acls: Set<string>, path: Path, diag: Diagnostics): HttpResponseAction[] {
  return (rules ?? []).map((r, i) => ({ ...r, if: r.if === undefined ? undefined : condition(r.if, acls, [...path, i, "if"], diag) }) as HttpResponseAction);
}

function frontendOf(name: string, f: FrontendInput, input: ConfigInput, path: Path, diag: Diagnostics, selfBackend: boolean): FrontendConfig {
  const binds = (Array.isArray(f.bind) ? f.bind : [f.bind]).map((b): ListenAddress => ("ports" in b ? { ...b, acceptProxy: false } : { ...b.address, acceptProxy: b.accept_proxy ?? false }));
  const aclNames = new Set(Object.keys(f.acls ?? {}));
  const acls: Record<string, Condition> = {};
  for (const [k, v] of Object.entries(f.acls ?? {})) acls[k] = condition(v, aclNames, [...path, "acls", k], diag);
  const accessLog = f.access_log ?? input.defaults?.access_log ?? false;
  const errorfiles: Record<number, string> = {};
  for (const [code, file] of Object.entries(f.errorfiles ?? {})) {
    if (!/^[1-5]\d\d$/.test(code)) diag.error([...path, "errorfiles", code], `"${code}" is not an HTTP status`, undefined, true);
    errorfiles[Number(code)] = file;
  }
  return {
    name,
    mode: f.mode ?? input.defaults?.mode ?? "http",
    binds,
    maxconn: f.maxconn ?? input.defaults?.maxconn,
    timeouts: timeoutsOf(input, f.timeout),
    acls,
    useBackend: (f.use_backend ?? []).map((u, i) => ({ backend: u.backend, if: condition(u.if, aclNames, [...path, "use_backend", i, "if"], diag) })),
    defaultBackend: f.default_backend ?? (selfBackend ? name : undefined),
    httpRequest: requestRules(f.http_request, aclNames, [...path, "http_request"], diag),
    httpResponse: responseRules(f.http_response, aclNames, [...path, "http_response"], diag),
    forwardfor: f.forwardfor ?? input.defaults?.forwardfor ?? false,
    via: f.via ?? false,
    accessLog: { enabled: accessLog !== false, format: typeof accessLog === "object" ? accessLog.format ?? "text" : "text" },
    errorfiles,
    limits: {
      requestLine: f.limits?.request_line ?? DEFAULTS.limits.requestLine,
      headerBytes: f.limits?.header_bytes ?? DEFAULTS.limits.headerBytes,
      headerCount: f.limits?.header_count ?? DEFAULTS.limits.headerCount,
      drainBody: f.limits?.drain_body ?? DEFAULTS.limits.drainBody,
    },
    allowH2cUpgrade: f.allow_h2c_upgrade ?? false,
  };
}

function backendOf(name: string, b: BackendInput, input: ConfigInput, path: Path, diag: Diagnostics): BackendConfig {
  const timeouts = timeoutsOf(input, b.timeout);
  const bal = b.balance ?? input.defaults?.balance ?? "roundrobin";
  const servers: ServerConfig[] = Object.entries(b.servers).map(([sname, s]) => {
    const spath = [...path, "servers", sname];
    if (isIP(s.address) === 0 && !/^[a-z0-9.-]+$/i.test(s.address)) {
      diag.error([...spath, "address"], `"${s.address}" is not an IP address or host name`, s.address.includes(":") ? "put the port in `port:`" : undefined);
    }
    const check = s.check === undefined || s.check === false ? undefined : healthCheck(input.defaults?.check, { ...b.check, ...(s.check === true ? {} : s.check) }, timeouts);
    return {
      name: sname,
      address: s.address,
      port: s.port,
      weight: s.weight ?? 1,
      maxconn: s.maxconn,
      backup: s.backup ?? false,
      disabled: s.disabled ?? false,
      sendProxy: s.send_proxy === true ? "v1" : s.send_proxy === false ? undefined : s.send_proxy,
      check,
      initState: s.init_state ?? "up",
    };
  });
  if (servers.length === 0) diag.warn([...path, "servers"], `backend "${name}" has no server: every request will get 503`, undefined, true);
  return {
    name,
    mode: b.mode ?? input.defaults?.mode ?? "http",
    balance: typeof bal === "string" ? { algorithm: bal, hash: "map" } : { algorithm: bal.algorithm, hash: bal.hash ?? "map" },
    servers,
    stick: b.stick ? { on: "src", type: b.stick.type ?? "ip", size: b.stick.size ?? DEFAULTS.stick.size, expire: b.stick.expire ?? DEFAULTS.stick.expire } : undefined,
    persist: b.persist ?? false,
    redispatch: b.redispatch ?? input.defaults?.redispatch ?? false,
    abortOnClose: b.abort_on_close ?? input.defaults?.abort_on_close ?? false,
    retries: b.retries ?? input.defaults?.retries ?? DEFAULTS.retries,
    retryOn: b.retry_on ?? input.defaults?.retry_on ?? ["conn-failure", "empty-response"],
    maxconn: b.maxconn,
    timeouts,
    onMarkedDown: b.on_marked_down,
    httpReuse: b.http_reuse ?? input.defaults?.http_reuse ?? "safe",
    httpResponse: responseRules(b.http_response, new Set(), [...path, "http_response"], diag),
  };
}

/** Splits "proxies" into a frontend and backend each, and gathers frontends/backends. */
function proxies(input: ConfigInput, diag: Diagnostics): { frontends: FrontendConfig[]; backends: BackendConfig[] } {
  const frontends: FrontendConfig[] = [];
  const backends: BackendConfig[] = [];
  const names = new Map<string, Path>();
  const claim = (name: string, path: Path, kind: "frontend" | "backend") => {
    const key = `${kind}:${name}`;
    if (names.has(key)) diag.error(path, `"${name}" is defined twice as a ${kind}`, undefined, true);
    names.set(key, path);
  };
  for (const [name, p] of Object.entries(input.proxies ?? {})) {
    const path = ["proxies", name];
    claim(name, path, "frontend");
    claim(name, path, "backend");
    frontends.push(frontendOf(name, p, input, path, diag, true));
    backends.push(backendOf(name, p, input, path, diag));
  }
  for (const [name, f] of Object.entries(input.frontends ?? {})) {
    claim(name, ["frontends", name], "frontend");
    frontends.push(frontendOf(name, f, input, ["frontends", name], diag, false));
  }
  for (const [name, b] of Object.entries(input.backends ?? {})) {
    claim(name, ["backends", name], "backend");
    backends.push(backendOf(name, b, input, ["backends", name], diag));
  }
  return { frontends, backends };
}

function pathOfFrontend(input: ConfigInput, name: string): Path {
  return input.proxies?.[name] ? ["proxies", name] : ["frontends", name];
}

function checkReferences(input: ConfigInput, frontends: FrontendConfig[], backends: BackendConfig[], diag: Diagnostics, written?: Set<string>): void {
  const byName = new Map(backends.map((b) => [b.name, b]));
  for (const f of frontends) {
    const path = pathOfFrontend(input, f.name);
    const refs: [string, Path][] = f.useBackend.map((u, i) => [u.backend, [...path, "use_backend", i, "backend"]]);
    if (f.defaultBackend !== undefined && !input.proxies?.[f.name]) refs.push([f.defaultBackend, [...path, "default_backend"]]);
    for (const [ref, p] of refs) {
      const b = byName.get(ref);
      if (!b && written?.has(ref)) continue;
      if (!b) diag.error(p, `unknown backend "${ref}"`, didYouMean(ref, byName.keys()) ?? `defined backends: ${[...byName.keys()].join(", ") || "none"}`);
      else if (b.mode !== f.mode) diag.error(p, `frontend "${f.name}" is mode ${f.mode} but backend "${ref}" is mode ${b.mode}`, "set the same mode on both");
    }
    if (f.defaultBackend === undefined && f.useBackend.length === 0) diag.error(path, `frontend "${f.name}" names no backend`, "add default_backend or use_backend", true);
    if (f.mode === "tcp") {
      // A tcp frontend sends everything to its default backend: rules would be ignored, so refuse them.
      const section = input.proxies?.[f.name] ?? input.frontends?.[f.name];
      for (const key of ["http_request", "http_response", "use_backend", "acls", "forwardfor", "errorfiles"] as const) {
        if (section?.[key] !== undefined) diag.error([...path, key], `${key} needs mode http; "${f.name}" is mode tcp`, key === "use_backend" ? "a tcp frontend sends every connection to default_backend" : undefined, true);
      }
    }
  }
}

/** Reports two listeners on the same address and port (0.0.0.0 overlaps every IPv4 address). */
function checkDuplicateBinds(input: ConfigInput, frontends: FrontendConfig[], diag: Diagnostics): void {
  const seen = new Map<string, { owner: string; host: string }[]>();
  const visit = (owner: string, host: string, port: number, path: Path) => {
    const fam = isIP(host) === 6 ? "6" : "4";
    const list = seen.get(`${fam}:${port}`) ?? [];
    const wildcard = (h: string) => h === "0.0.0.0" || h === "::";
    const clash = list.find((o) => o.host === host || wildcard(o.host) || wildcard(host));
    if (clash) {
      const hostText = fam === "6" ? `[${host}]` : host;
      diag.error(path, `${hostText}:${port} is bound twice: by "${owner}" and by "${clash.owner}"`, clash.host !== host ? `${clash.host} covers every address of that family` : undefined);
    }
    list.push({ owner, host });
    seen.set(`${fam}:${port}`, list);
  };
  for (const f of frontends) {
    const path = pathOfFrontend(input, f.name);
    const raw = input.proxies?.[f.name]?.bind ?? input.frontends?.[f.name]?.bind;
    f.binds.forEach((b, i) => {
      for (const port of b.ports) visit(f.name, b.host, port, Array.isArray(raw) ? [...path, "bind", i] : [...path, "bind"]);
    });
  }
  if (input.stats) for (const port of input.stats.bind.ports) visit("stats", input.stats.bind.host, port, ["stats", "bind"]);
}

function notifiersOf(input: ConfigInput): NotifierConfig[] {
  const retry = (r?: { initial?: number; max?: number; max_age?: number }) => ({
    initial: r?.initial ?? DEFAULTS.retry.initial,
    max: r?.max ?? DEFAULTS.retry.max,
    maxAge: r?.max_age ?? DEFAULTS.retry.maxAge,
  });
  return Object.entries(input.notify ?? {}).map(([name, n]): NotifierConfig => {
    if ("smtp" in n) {
      return {
        name,
        type: "email",
        smtp: {
          host: n.smtp.host,
          port: n.smtp.port ?? (n.smtp.security === "tls" ? 465 : DEFAULTS.email.port),
          security: n.smtp.security ?? DEFAULTS.email.security,
          auth: n.smtp.auth,
          connectTimeout: n.smtp.connect_timeout ?? DEFAULTS.email.connectTimeout,
          helo: n.smtp.helo,
          rejectUnauthorized: n.smtp.reject_unauthorized ?? true,
        },
        from: n.from,
        to: n.to,
        retry: retry(n.retry),
      };
    }
    return { name, type: "webhook", url: n.url, headers: n.headers ?? {}, timeout: n.timeout ?? DEFAULTS.webhookTimeout, retry: retry(n.retry) };
  });
}

function alertsOf(input: ConfigInput, notifiers: NotifierConfig[], diag: Diagnostics, written?: Set<string>): AlertRule[] {
  const names = new Set<string>();
  const notifierNames = notifiers.map((n) => n.name);
  return (input.alerts ?? []).map((a, i): AlertRule => {
    const path = ["alerts", i];
    if (names.has(a.name)) diag.error([...path, "name"], `alert "${a.name}" is defined twice`);
    names.add(a.name);
    if ((a.schedule === undefined) === (a.on === undefined)) diag.error(path, `alert "${a.name}" needs exactly one of schedule: or on:`, "schedule: runs a check periodically; on: reacts to an event", true);
    if (a.schedule !== undefined) {
      if (a.check === undefined) diag.error(path, `scheduled alert "${a.name}" needs a check:`, "vip_held, vip_not_held, server_state, tcp_connect, http_get or command", true);
      const problem = validateSchedule(a.schedule, a.timezone);
      if (problem) diag.error([...path, problem.field === "timezone" ? "timezone" : "schedule"], problem.message, problem.hint);
    } else if (a.check !== undefined) {
      diag.error([...path, "check"], `event alert "${a.name}" cannot have a check:`, "checks belong to scheduled alerts (schedule:)", true);
    }
    a.notify.forEach((n, j) => {
      if (!notifierNames.includes(n) && !written?.has(n)) diag.error([...path, "notify", ...(Array.isArray(input.alerts?.[i].notify) ? [j] : [])], `unknown notifier "${n}"`, didYouMean(n, notifierNames) ?? (notifierNames.length ? `defined notifiers: ${notifierNames.join(", ")}` : "define it under notify:"));
    });
    (a.roles ?? []).forEach((r, j) => {
      if (!ROLES.includes(r.toLowerCase() as Role)) diag.error([...path, "roles", j], `unknown role "${r}"`, "roles are master and backup");
    });
    let check: AlertCheck | undefined;
    const c = a.check;
    const timeout = (c && "timeout" in c ? c.timeout : undefined) ?? DEFAULTS.alert.checkTimeout;
    if (c) {
      if ("tcp_connect" in c) {
        try {
          parseHostPort(c.tcp_connect);
        } catch (err) {
          diag.error([...path, "check", "tcp_connect"], `"${c.tcp_connect}" is not host:port: ${(err as Error).message}`);
        }
        check = { tcp_connect: c.tcp_connect, timeout };
      } else if ("http_get" in c) check = { http_get: c.http_get, expect: c.expect?.status ?? { min: 200, max: 399 }, timeout };
      else if ("command" in c) check = { command: c.command, timeout };
      else if ("server_state" in c) check = { server_state: { ...c.server_state, state: c.server_state.state ?? "up" } };
      else {
        const ip = "vip_held" in c ? c.vip_held : c.vip_not_held;
        if (isIP(ip) === 0) diag.error([...path, "check", "vip_held" in c ? "vip_held" : "vip_not_held"], `"${ip}" is not an IP address`);
        check = c;
      }
    }
    return {
      name: a.name,
      schedule: a.schedule,
      timezone: a.timezone,
      check,
      on: a.on,
      filter: { proxy: a.filter?.proxy, server: a.filter?.server, states: a.filter?.states },
      roles: a.roles?.map((r) => r.toLowerCase() as Role),
      notify: a.notify,
      subject: a.subject,
      message: a.message,
      repeat: a.repeat,
      rateLimit: a.rate_limit,
      groupWindow: a.group_window ?? (a.on ? DEFAULTS.alert.groupWindow : 0),
      flap: { window: a.flap?.window ?? DEFAULTS.alert.flapWindow, threshold: a.flap?.threshold ?? DEFAULTS.alert.flapThreshold },
    };
  });
}

/**
 * Resolves the parsed config for role, reporting problems into diag.
 * Returns the config even when diag holds errors (callers decide).
 */
export function normalize(input: ConfigInput, file: string, role: Role, diag: Diagnostics, written?: WrittenNames): TandemConfig {
  const g = input.global ?? {};
  const { frontends, backends } = proxies(input, diag);
  checkReferences(input, frontends, backends, diag, written?.backends);
  checkDuplicateBinds(input, frontends, diag);
  const notifiers = notifiersOf(input);
  const alerts = alertsOf(input, notifiers, diag, written?.notifiers);
  const vrrp: VrrpConfig | undefined = input.vrrp ? checkVrrp(input, role, frontends, diag) : undefined;
  // Relative paths are relative to the working directory, as for haproxy and keepalived (so one
  // file can serve two lab hosts started in their own directories); made absolute once, here.
  const here = (p: string) => resolve(p);
  for (const f of frontends) for (const code of Object.keys(f.errorfiles)) f.errorfiles[Number(code)] = here(f.errorfiles[Number(code)]);
  const adminSocket = g.admin_socket === undefined ? undefined : typeof g.admin_socket === "string" ? { path: here(g.admin_socket), mode: 0o600 } : { path: here(g.admin_socket.path), mode: g.admin_socket.mode ?? 0o600 };
  return {
    file,
    role,
    global: {
      maxconn: g.maxconn ?? DEFAULTS.maxconn,
      pidfile: g.pidfile === undefined ? undefined : here(g.pidfile),
      adminSocket,
      // One process unless asked: with several, queues, maxconn and round-robin positions are per
      // process (see docs/config.md), and on 2 cores one process measured as fast (docs/performance.md).
      workers: g.workers === "auto" ? availableParallelism() : g.workers ?? 1,
      stateDir: here(g.state_dir ?? DEFAULTS.stateDir),
      hostname: g.hostname ?? hostname(),
      gracePeriod: g.grace_period ?? DEFAULTS.gracePeriod,
    },
    frontends,
    backends,
    stats: input.stats ? { bind: input.stats.bind, uri: input.stats.uri ?? DEFAULTS.stats.uri, auth: input.stats.auth, admin: input.stats.admin ?? false, refresh: input.stats.refresh ?? DEFAULTS.stats.refresh } : undefined,
    vrrp,
    notifiers,
    alerts,
  };
}
