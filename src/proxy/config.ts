// The proxy's config section: `defaults`, `proxies`, `frontends`, `backends` — defaults, merges,
// references and every check, resolved into frontends and backends.

import { z } from "zod";
import type { Diagnostics, Path } from "../config/diagnostics.ts";
import { absolutePath } from "../config/global.ts";
import type { ConfigSection, SectionContext } from "../config/section.ts";
import { didYouMean } from "../config/suggest.ts";
import { ipFamily } from "../core/address.ts";
import type { BackendConfig, CookieConfig, CountersConfig, FrontendConfig, HealthCheckConfig, ListenAddress, ProxyConfig, ServerConfig, Timeouts, UserlistConfig } from "./config_types.ts";
import { backendSchema, defaultsSchema, frontendSchema, proxySchema, userlistSchema } from "./config_schema.ts";
import type { BackendInput, CheckInput, DefaultsInput, FrontendInput, ProxyInput, UserlistInput } from "./config_schema.ts";
import { condition, requestRules, responseRules } from "./http/rules_config.ts";
import type { ConditionScope } from "./http/rules_config.ts";
import { normalizeUserlists } from "./auth/userlist_config.ts";
import { httpRuleProblems } from "./http/routing.ts";
import { normalizeBindTls, normalizeServerTls } from "../tls/config.ts";

export const PROXY_DEFAULTS = {
  timeout: { connect: 5_000, client: 30_000, server: 30_000, httpRequest: 10_000, httpKeepAlive: 10_000 },
  retries: 3,
  check: { interval: 2_000, rise: 2, fall: 3, method: "GET", path: "/", expect: { min: 200, max: 399 } },
  stick: { size: 100 * 1024, expire: 30 * 60_000 },
  limits: { requestLine: 8192, headerBytes: 16384, headerCount: 100, h2Streams: 100, drainBody: 1024 * 1024 },
  counters: { size: 100 * 1024, expire: 60_000 },
} as const;

interface Inputs {
  defaults?: DefaultsInput;
  proxies?: Record<string, ProxyInput>;
  frontends?: Record<string, FrontendInput>;
  backends?: Record<string, BackendInput>;
  userlists?: Record<string, UserlistInput>;
}

function timeoutsOf(defaults: DefaultsInput | undefined, own: ProxyInput["timeout"]): Timeouts {
  const d = { ...defaults?.timeout, ...own };
  const D = PROXY_DEFAULTS.timeout;
  const connect = d.connect ?? D.connect;
  const httpRequest = d.http_request ?? D.httpRequest;
  return {
    connect,
    client: d.client ?? D.client,
    server: d.server ?? D.server,
    queue: d.queue ?? connect,
    check: d.check,
    httpRequest,
    httpKeepAlive: d.http_keep_alive ?? httpRequest,
    tunnel: d.tunnel,
    tarpit: d.tarpit ?? connect,
  };
}

function healthCheck(base: CheckInput | undefined, own: CheckInput, timeouts: Timeouts): HealthCheckConfig {
  const c = { ...base, ...own };
  const D = PROXY_DEFAULTS.check;
  const interval = c.interval ?? D.interval;
  return {
    type: c.type ?? (c.path || c.expect || c.method ? "http" : "tcp"),
    port: c.port,
    address: c.address,
    method: c.method ?? D.method,
    path: c.path ?? D.path,
    host: c.host,
    expectStatus: c.expect?.status ?? { ...D.expect },
    interval,
    fastinterval: c.fastinterval ?? interval,
    downinterval: c.downinterval ?? interval,
    timeout: c.timeout ?? timeouts.check ?? Math.min(interval, timeouts.connect),
    rise: c.rise ?? D.rise,
    fall: c.fall ?? D.fall,
  };
}

/** counters: with their defaults (a table of 100k entries kept a minute after last use). */
function countersOf(c: FrontendInput["counters"], path: Path, diag: Diagnostics): CountersConfig | undefined {
  if (c === undefined) return undefined;
  const D = PROXY_DEFAULTS.counters;
  const out: CountersConfig = { track: c.track ?? "request", size: c.size ?? D.size, expire: c.expire ?? D.expire, httpReqRate: c.http_req_rate, connRate: c.conn_rate, httpErrRate: c.http_err_rate, connCur: c.conn_cur ?? false };
  if (!out.httpReqRate && !out.connRate && !out.httpErrRate && !out.connCur) diag.warn(path, "counters: keeps no counter", "add http_req_rate: 10s (or conn_rate, http_err_rate, conn_cur: true)");
  for (const k of ["http_req_rate", "conn_rate", "http_err_rate"] as const) if (c[k] !== undefined && c[k] <= 0) diag.error([...path, k], `${k} needs a period above 0`, "write 10s");
  if (out.size < 1) diag.error([...path, "size"], "size must be at least 1");
  return out;
}

function frontendOf(name: string, f: FrontendInput, defaults: DefaultsInput | undefined, path: Path, diag: Diagnostics, selfBackend: boolean, userlists: Record<string, UserlistConfig>): FrontendConfig {
  const binds = (Array.isArray(f.bind) ? f.bind : [f.bind]).map((b, i): ListenAddress => {
    if ("ports" in b) return { ...b, acceptProxy: false };
    // tls: is the TLS subsystem's (src/tls/config.ts); acme names are checked by the acme section.
    const tls = b.tls === undefined ? undefined : normalizeBindTls(b.tls, [...path, "bind", ...(Array.isArray(f.bind) ? [i] : []), "tls"], diag);
    return { ...b.address, acceptProxy: b.accept_proxy ?? false, ...(tls ? { tls } : {}) };
  });
  const counters = countersOf(f.counters, [...path, "counters"], diag);
  const scope: ConditionScope = { acls: new Set(Object.keys(f.acls ?? {})), userlists: new Set(Object.keys(userlists)), counters };
  const acls: FrontendConfig["acls"] = {};
  for (const [k, v] of Object.entries(f.acls ?? {})) acls[k] = condition(v, scope, [...path, "acls", k], diag);
  const accessLog = f.access_log ?? defaults?.access_log ?? false;
  if (f.monitor_uri !== undefined && !f.monitor_uri.startsWith("/")) diag.error([...path, "monitor_uri"], `"${f.monitor_uri}" is not a path`, "write monitor_uri: /health");
  const L = PROXY_DEFAULTS.limits;
  return {
    name,
    mode: f.mode ?? defaults?.mode ?? "http",
    binds,
    maxconn: f.maxconn ?? defaults?.maxconn,
    timeouts: timeoutsOf(defaults, f.timeout),
    acls,
    useBackend: (f.use_backend ?? []).map((u, i) => ({ backend: u.backend, if: condition(u.if, scope, [...path, "use_backend", i, "if"], diag) })),
    defaultBackend: f.default_backend ?? (selfBackend ? name : undefined),
    httpRequest: requestRules(f.http_request, scope, [...path, "http_request"], diag, name),
    httpResponse: responseRules(f.http_response, scope, [...path, "http_response"], diag),
    ...forwardedOf(f.forwardfor ?? defaults?.forwardfor ?? false),
    via: f.via ?? false,
    accessLog: { enabled: accessLog !== false, format: typeof accessLog === "object" ? accessLog.format ?? "text" : "text" },
    errorfiles: errorfilesOf(f.errorfiles, path, diag),
    limits: {
      requestLine: f.limits?.request_line ?? L.requestLine,
      headerBytes: f.limits?.header_bytes ?? L.headerBytes,
      headerCount: f.limits?.header_count ?? L.headerCount,
      h2Streams: f.limits?.h2_streams ?? L.h2Streams,
      drainBody: f.limits?.drain_body ?? L.drainBody,
    },
    allowH2cUpgrade: f.allow_h2c_upgrade ?? false,
    ...(f.monitor_uri !== undefined ? { monitorUri: f.monitor_uri } : {}),
    ...(counters ? { counters } : {}),
    userlists,
  };
}

/** `forwardfor: true` or `{ except, headers }` → the frontend's forwardfor and forwarded keys. */
function forwardedOf(v: NonNullable<FrontendInput["forwardfor"]>): Pick<FrontendConfig, "forwardfor" | "forwarded"> {
  if (typeof v === "boolean") return { forwardfor: v, forwarded: { except: [], proto: true, host: true } };
  const headers = v.headers ?? ["for", "proto", "host"];
  const except = v.except === undefined ? [] : Array.isArray(v.except) ? v.except : [v.except];
  return { forwardfor: headers.includes("for"), forwarded: { except, proto: headers.includes("proto"), host: headers.includes("host") } };
}

function errorfilesOf(files: Record<string, string> | undefined, path: Path, diag: Diagnostics): Record<number, string> {
  const errorfiles: Record<number, string> = {};
  for (const [code, file] of Object.entries(files ?? {})) {
    if (!/^[1-5]\d\d$/.test(code)) diag.error([...path, "errorfiles", code], `"${code}" is not an HTTP status`, undefined, true);
    errorfiles[Number(code)] = absolutePath(file);
  }
  return errorfiles;
}

function cookieOf(c: BackendInput["cookie"], servers: ServerConfig[], path: Path, diag: Diagnostics): CookieConfig | undefined {
  if (c === undefined) {
    for (const s of servers) if (s.cookie !== undefined) diag.warn([...path, "servers", s.name, "cookie"], `server "${s.name}" has a cookie value but the backend has no cookie:`, "add cookie: { name: SERVERID }");
    return undefined;
  }
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(c.name)) diag.error([...path, "cookie", "name"], `"${c.name}" is not a cookie name`);
  if (!servers.some((s) => s.cookie !== undefined)) diag.warn([...path, "cookie"], "no server has a cookie value: no client will be kept on a server", "add cookie: s1 to each server");
  const seen = new Map<string, string>();
  for (const s of servers) {
    if (s.cookie === undefined) continue;
    const other = seen.get(s.cookie);
    if (other !== undefined) diag.error([...path, "servers", s.name, "cookie"], `servers "${other}" and "${s.name}" have the same cookie value "${s.cookie}"`);
    seen.set(s.cookie, s.name);
  }
  return { name: c.name, mode: c.mode ?? "insert", indirect: c.indirect ?? false, nocache: c.nocache ?? false, preserve: c.preserve ?? false, httponly: c.httponly ?? false, secure: c.secure ?? false, postonly: c.postonly ?? false, domain: c.domain ?? [] };
}

/** listen: a proxies entry, whose acls, http_request and errorfiles are its frontend's. */
function backendOf(name: string, b: BackendInput, defaults: DefaultsInput | undefined, path: Path, diag: Diagnostics, userlists: Record<string, UserlistConfig>, listen: boolean): BackendConfig {
  const timeouts = timeoutsOf(defaults, b.timeout);
  const bal = b.balance ?? defaults?.balance ?? "roundrobin";
  const servers: ServerConfig[] = Object.entries(b.servers).map(([sname, s]) => {
    const spath = [...path, "servers", sname];
    if (ipFamily(s.address) === 0 && !/^[a-z0-9.-]+$/i.test(s.address)) {
      diag.error([...spath, "address"], `"${s.address}" is not an IP address or host name`, s.address.includes(":") ? "put the port in `port:`" : undefined);
    }
    const check = s.check === undefined || s.check === false ? undefined : healthCheck(defaults?.check, { ...b.check, ...(s.check === true ? {} : s.check) }, timeouts);
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
      ...(s.tls !== undefined && s.tls !== false ? { tls: normalizeServerTls(s.tls) } : {}),
      ...(s.cookie !== undefined ? { cookie: s.cookie } : {}),
    };
  });
  if (servers.length === 0) diag.warn([...path, "servers"], `backend "${name}" has no server: every request will get 503`, undefined, true);
  const S = PROXY_DEFAULTS.stick;
  const scope: ConditionScope = { acls: new Set(listen ? [] : Object.keys(b.acls ?? {})), userlists: new Set(Object.keys(userlists)), counters: "unchecked" };
  const acls: BackendConfig["acls"] = {};
  if (!listen) for (const [k, v] of Object.entries(b.acls ?? {})) acls[k] = condition(v, scope, [...path, "acls", k], diag);
  return {
    name,
    mode: b.mode ?? defaults?.mode ?? "http",
    balance: typeof bal === "string" ? { algorithm: bal, hash: "map" } : { algorithm: bal.algorithm, hash: bal.hash ?? "map" },
    servers,
    stick: b.stick ? { on: "src", type: b.stick.type ?? "ip", size: b.stick.size ?? S.size, expire: b.stick.expire ?? S.expire } : undefined,
    persist: b.persist ?? false,
    redispatch: b.redispatch ?? defaults?.redispatch ?? false,
    abortOnClose: b.abort_on_close ?? defaults?.abort_on_close ?? false,
    retries: b.retries ?? defaults?.retries ?? PROXY_DEFAULTS.retries,
    retryOn: b.retry_on ?? defaults?.retry_on ?? ["conn-failure", "empty-response"],
    maxconn: b.maxconn,
    timeouts,
    onMarkedDown: b.on_marked_down,
    httpReuse: b.http_reuse ?? defaults?.http_reuse ?? "safe",
    httpResponse: listen ? [] : responseRules(b.http_response, scope, [...path, "http_response"], diag),
    httpRequest: listen ? [] : requestRules(b.http_request, scope, [...path, "http_request"], diag, name),
    acls,
    errorfiles: listen ? {} : errorfilesOf(b.errorfiles, path, diag),
    ...(b.cookie !== undefined || servers.some((s) => s.cookie !== undefined) ? { cookie: cookieOf(b.cookie, servers, path, diag) } : {}),
    userlists,
  };
}

/** Where a frontend or backend is written: under proxies (a listen block) or its own key. */
function pathOf(input: Inputs, kind: "frontends" | "backends", name: string): Path {
  return input.proxies?.[name] ? ["proxies", name] : [kind, name];
}

/** Splits "proxies" into a frontend and backend each, and gathers frontends/backends. */
function resolve(input: Inputs, diag: Diagnostics): ProxyConfig {
  const frontends: FrontendConfig[] = [];
  const backends: BackendConfig[] = [];
  const names = new Map<string, Path>();
  const claim = (name: string, path: Path, kind: "frontend" | "backend") => {
    const key = `${kind}:${name}`;
    if (names.has(key)) diag.error(path, `"${name}" is defined twice as a ${kind}`, undefined, true);
    names.set(key, path);
  };
  const d = input.defaults;
  const userlists = normalizeUserlists(input.userlists, diag);
  for (const [name, p] of Object.entries(input.proxies ?? {})) {
    const path = ["proxies", name];
    claim(name, path, "frontend");
    claim(name, path, "backend");
    frontends.push(frontendOf(name, p, d, path, diag, true, userlists));
    backends.push(backendOf(name, p, d, path, diag, userlists, true));
  }
  for (const [name, f] of Object.entries(input.frontends ?? {})) {
    claim(name, ["frontends", name], "frontend");
    frontends.push(frontendOf(name, f, d, ["frontends", name], diag, false, userlists));
  }
  for (const [name, b] of Object.entries(input.backends ?? {})) {
    claim(name, ["backends", name], "backend");
    backends.push(backendOf(name, b, d, ["backends", name], diag, userlists, false));
  }
  return { frontends, backends, userlists };
}

/** A server without a port takes the client's destination port, so a check cannot find one. */
export const noCheckPort = (server: string, backend: string): string => `Server "${server}" in backend "${backend}" has no port: set check.port so it can be checked`;

/** Where a frontend or backend of the resolved config is written, for diagnostics. */
export type Where = (kind: "frontends" | "backends", name: string) => Path;

/**
 * What the engine cannot run, checked on the resolved config: backends a frontend names, modes
 * on both sides, a port for each check. The section reports them at --check; the proxy
 * subsystem runs the same checks on configs handed to it directly. `written`: backends written
 * in the file but invalid (already reported).
 */
export function checkProxyConfig({ frontends, backends }: ProxyConfig, where: Where, diag: Diagnostics, written: ReadonlySet<string> = new Set()): void {
  const byName = new Map(backends.map((b) => [b.name, b]));
  const hint = (ref: string) => didYouMean(ref, byName.keys()) ?? `defined backends: ${[...byName.keys()].join(", ") || "none"}`;
  for (const f of frontends) {
    const path = where("frontends", f.name);
    const refs: [string, Path, string][] = f.useBackend.map((u, i) => [u.backend, [...path, "use_backend", i, "backend"], `unknown backend "${u.backend}"`]);
    // A listen block's default backend is itself.
    const own = path[0] === "proxies" && f.defaultBackend === f.name;
    if (f.defaultBackend !== undefined && !own) refs.push([f.defaultBackend, [...path, "default_backend"], `default backend "${f.defaultBackend}" does not exist`]);
    for (const [ref, p, unknown] of refs) {
      const b = byName.get(ref);
      if (!b && written.has(ref)) continue;
      if (!b) diag.error(p, unknown, hint(ref));
      else if (b.mode !== f.mode) diag.error(p, `frontend "${f.name}" is mode ${f.mode} but backend "${ref}" is mode ${b.mode}`, "set the same mode on both");
    }
    if (f.defaultBackend === undefined && f.useBackend.length === 0) {
      // Requests its rules do not answer get 503, as in haproxy (a frontend that only redirects).
      if (f.mode === "http" && f.httpRequest.length > 0) diag.warn(path, `frontend "${f.name}" names no backend: requests its http_request rules do not answer get 503`, "add default_backend if that is not meant", true);
      else diag.error(path, `frontend "${f.name}" names no backend`, "add default_backend or use_backend", true);
    }
  }
  // A server without a port takes the client's destination port; a check then needs its own.
  for (const b of backends) {
    for (const s of b.servers) {
      if (s.check && s.check.port === undefined && s.port === undefined) {
        diag.error([...where("backends", b.name), "servers", s.name], noCheckPort(s.name, b.name), undefined, true);
      }
    }
  }
}

/** A tcp frontend sends everything to its default backend: rules would be ignored, so refuse them. */
function checkTcpKeys(input: Inputs, frontends: FrontendConfig[], diag: Diagnostics): void {
  for (const f of frontends) {
    if (f.mode !== "tcp") continue;
    const path = pathOf(input, "frontends", f.name);
    const section = input.proxies?.[f.name] ?? input.frontends?.[f.name];
    for (const key of ["http_request", "http_response", "use_backend", "acls", "forwardfor", "errorfiles", "monitor_uri", "counters"] as const) {
      if (section?.[key] !== undefined) diag.error([...path, key], `${key} needs mode http; "${f.name}" is mode tcp`, key === "use_backend" ? "a tcp frontend sends every connection to default_backend" : undefined, true);
    }
  }
  for (const [name, b] of Object.entries(input.backends ?? {})) {
    if ((b.mode ?? input.defaults?.mode ?? "http") !== "tcp") continue;
    for (const key of ["http_request", "http_response", "acls", "errorfiles", "cookie"] as const) {
      if (b[key] !== undefined) diag.error(["backends", name, key], `${key} needs mode http; "${name}" is mode tcp`, undefined, true);
    }
  }
}

/** Who binds each address and port, so two listeners on one port are reported (0.0.0.0 overlaps every IPv4 address). */
export class BindClaims {
  #seen = new Map<string, { owner: string; host: string }[]>();

  /** Records owner on host:port; reports a clash with an earlier owner at path. */
  claim(owner: string, host: string, port: number, path: Path, diag: Diagnostics): void {
    const fam = ipFamily(host) === 6 ? "6" : "4";
    const list = this.#seen.get(`${fam}:${port}`) ?? [];
    const wildcard = (h: string) => h === "0.0.0.0" || h === "::";
    const clash = list.find((o) => o.host === host || wildcard(o.host) || wildcard(host));
    if (clash) {
      const hostText = fam === "6" ? `[${host}]` : host;
      diag.error(path, `${hostText}:${port} is bound twice: by "${owner}" and by "${clash.owner}"`, clash.host !== host ? `${clash.host} covers every address of that family` : undefined);
    }
    list.push({ owner, host });
    this.#seen.set(`${fam}:${port}`, list);
  }
}

/**
 * The frontends' binds, claimed in order (other sections claim theirs after: see the stats
 * section). bindPath: where the i-th bind of a frontend is written.
 */
export function frontendBinds(frontends: FrontendConfig[], diag: Diagnostics, bindPath: (f: FrontendConfig, i: number) => Path = (f) => ["frontends", f.name, "bind"]): BindClaims {
  const claims = new BindClaims();
  for (const f of frontends) {
    f.binds.forEach((b, i) => {
      for (const port of b.ports) claims.claim(f.name, b.host, port, bindPath(f, i), diag);
    });
  }
  return claims;
}

/** Where the i-th bind of a frontend is written in the file (a single bind has no index). */
export function writtenBindPath(input: Readonly<Record<string, unknown>>): (f: FrontendConfig, i: number) => Path {
  const inputs = input as Inputs;
  return (f, i) => {
    const path = pathOf(inputs, "frontends", f.name);
    const raw = inputs.proxies?.[f.name]?.bind ?? inputs.frontends?.[f.name]?.bind;
    return Array.isArray(raw) ? [...path, "bind", i] : [...path, "bind"];
  };
}

/**
 * HTTP rules compile once at load: a bad header value, regex or path fails here, not as a 500
 * (for entries the section's own pass found nothing wrong with: one report per problem).
 */
function compileRules(input: Inputs, config: ProxyConfig, ctx: SectionContext, diag: Diagnostics): void {
  const problems = httpRuleProblems(config).map((p) => ({ ...p, path: p.frontend !== undefined ? pathOf(input, "frontends", p.frontend) : pathOf(input, "backends", p.backend!) }));
  for (const p of problems) if (!ctx.faulty(p.path.join("."))) diag.error(p.path, p.message, undefined, true);
}

export const proxySection: ConfigSection<ProxyConfig> = {
  name: "proxy",
  keys: {
    defaults: defaultsSchema.optional(),
    proxies: z.record(z.string(), proxySchema).optional(),
    frontends: z.record(z.string(), frontendSchema).optional(),
    backends: z.record(z.string(), backendSchema).optional(),
    userlists: z.record(z.string(), userlistSchema).optional(),
  },
  entries: {
    proxies: { kind: "record", entry: proxySchema },
    frontends: { kind: "record", entry: frontendSchema },
    backends: { kind: "record", entry: backendSchema },
    userlists: { kind: "record", entry: userlistSchema },
  },
  normalize(ctx, diag) {
    const input = ctx.input as Inputs;
    const config = resolve(input, diag);
    const written = new Set([...ctx.written("proxies"), ...ctx.written("backends")]);
    checkProxyConfig(config, (kind, name) => pathOf(input, kind, name), diag, written);
    checkTcpKeys(input, config.frontends, diag);
    return config;
  },
  check(config, ctx, diag) {
    frontendBinds(config.frontends, diag, writtenBindPath(ctx.input));
    compileRules(ctx.input as Inputs, config, ctx, diag);
  },
};
