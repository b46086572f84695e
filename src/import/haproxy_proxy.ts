// One haproxy proxy section (defaults/listen/frontend/backend), directive by directive, into tandem keys.

import type { HaDirective, HaSection } from "./haproxy_cfg.ts";
import type { AclScope } from "./haproxy_acl.ts";
import { translateCondition, translateCriterion } from "./haproxy_acl.ts";
import { translateHttpRequest, translateHttpResponse, translateLegacyRule } from "./haproxy_http_rules.ts";
import type { RuleResult } from "./haproxy_http_rules.ts";
import { translateServer } from "./haproxy_server.ts";
import { haBindList, haDuration } from "./haproxy_values.ts";
import { bindTls } from "./haproxy_tls.ts";
import type { HaTlsDefaults } from "./haproxy_tls.ts";
import type { Impact } from "./notes.ts";
import { isIP } from "node:net";

/** A directive that did not translate, with why; the caller turns it into a note. */
export interface Dropped {
  d: HaDirective;
  /** The part that did not translate (defaults to the whole directive). */
  words?: string[];
  reason: string;
  /** What is lost (haproxy_impact.ts decides when absent; null: operational). */
  impact?: Impact | null;
}

/** A section being translated: tandem keys (schema names) with the directives they came from. */
export interface ProxyBuild {
  kind: "defaults" | "listen" | "frontend" | "backend";
  name: string;
  section: HaSection;
  fields: Record<string, unknown>;
  /** Directives that set each key, for notes when a key has to be dropped. */
  origin: Record<string, HaDirective[]>;
  /** Trailing `#` comments, by path below the section. */
  comments: { path: (string | number)[]; text: string }[];
  acls: AclScope;
  /** `default-server` keywords in effect (inherited from defaults first). */
  defaultServer: string[];
  stickTable?: { fields: Record<string, unknown>; d: HaDirective; counters: Record<string, unknown> };
  stickOn?: HaDirective;
  /** Another section tracks into this section's table (`track-sc0 src table NAME`). */
  tableUsed?: boolean;
  /** `http-request track-sc0 src` / `tcp-request connection track-sc0 src`: the frontend's counters. */
  track?: { d: HaDirective; on: "request" | "connection"; table?: string };
  /** stats directives, kept raw: where they go depends on the whole section. */
  stats: HaDirective[];
  /** http-request rules translated with inlined ACLs, for sections that cannot have acls:. */
  dropped: Dropped[];
  disabled?: HaDirective;
  /** A server had `on-marked-down shutdown-sessions`. */
  shutdownOnDown?: HaDirective;
  /** Keys set on this section explicitly (not inherited). */
  explicit: Set<string>;
  /** TLS settings of the global section (crt-base, ssl-default-bind-*...). */
  tls?: HaTlsDefaults;
}

const TIMEOUTS: Record<string, string> = {
  connect: "connect", client: "client", server: "server", queue: "queue", check: "check",
  "http-request": "http_request", "http-keep-alive": "http_keep_alive", tunnel: "tunnel", tarpit: "tarpit",
};
const OLD_TIMEOUTS: Record<string, string> = { contimeout: "connect", clitimeout: "client", srvtimeout: "server" };
const ALGORITHMS = new Set(["roundrobin", "static-rr", "leastconn", "source", "random", "first"]);

const OPTION_FLAGS: Record<string, string> = { persist: "persist", redispatch: "redispatch", abortonclose: "abort_on_close", forwardfor: "forwardfor" };
const CHECK_PROTOCOLS = new Set(["mysql-check", "pgsql-check", "redis-check", "smtpchk", "ldap-check", "ssl-hello-chk", "spop-check", "external-check"]);
const LOG_OPTIONS = new Set(["dontlognull", "dontlog-normal", "log-health-checks", "log-separate-errors", "logasap", "httpslog"]);

const UNSUPPORTED: Record<string, string> = {
  log: "tandem logs to stdout (journald); choose the format with --log-format",
  "log-format": "tandem's access log format is fixed (text or json)",
  "log-format-sd": "tandem's access log format is fixed (text or json)",
  "error-log-format": "tandem's access log format is fixed (text or json)",
  "log-tag": "tandem logs to stdout (journald)",
  capture: "request/response capture is not supported",
  appsession: "cookie persistence is not supported; `stick on src` is the closest tandem has",
  fullconn: "dynamic maxconn (minconn/fullconn) is not supported",
  monitor: "monitor fail conditions are not supported: monitor_uri always answers 200",
  "tcp-request": "tcp-request rules are not supported (tandem tracks counters with counters:, and decides in http_request rules)",
  "tcp-check": "scripted TCP checks are not supported: tandem checks that the port accepts connections",
  "tcp-response": "tcp-response rules are not supported",
  "http-after-response": "http-after-response rules are not supported; http_response rules are the closest",
  compression: "compression is not supported",
  filter: "filters are not supported",
  "unique-id-format": "unique request ids are not supported",
  "unique-id-header": "unique request ids are not supported",
  "use-server": "forcing a server by rule is not supported",
  "force-persist": "persistence rules are not supported",
  "ignore-persist": "persistence rules are not supported",
  persist: "RDP cookie persistence is not supported",
  "rate-limit": "session rate limits are not supported",
  "bind-process": "tandem spreads connections over its workers itself",
  description: "descriptions are not kept (write a YAML comment)",
  id: "numeric proxy ids are not needed (proxies are named)",
  "email-alert": "use notify: and an alert with `on: server_down`",
  source: "choosing the source address towards servers is not supported",
  dispatch: "write a server instead",
  "server-template": "server templates (DNS service discovery) are not supported",
  "http-send-name-header": "sending the server name in a header is not supported",
  "max-keep-alive-queue": "not configurable in tandem",
  "max-session-srv-conns": "not configurable in tandem",
  enabled: "nothing to do: sections are enabled",
};

/** Creates an empty build for a section. */
export function newBuild(kind: ProxyBuild["kind"], section: HaSection): ProxyBuild {
  return { kind, name: section.name ?? "", section, fields: {}, origin: {}, comments: [], acls: new Map(), defaultServer: [], stats: [], dropped: [], explicit: new Set() };
}

function set(b: ProxyBuild, key: string, value: unknown, d: HaDirective): void {
  b.fields[key] = value;
  (b.origin[key] ??= []).push(d);
  b.explicit.add(key);
  if (d.comment) b.comments.push({ path: [key], text: d.comment });
}

function push(b: ProxyBuild, key: string, value: unknown, d: HaDirective): void {
  const list = (b.fields[key] as unknown[] | undefined) ?? [];
  list.push(value);
  b.fields[key] = list;
  (b.origin[key] ??= []).push(d);
  b.explicit.add(key);
  if (d.comment) b.comments.push({ path: [key, list.length - 1], text: d.comment });
}

function timeout(b: ProxyBuild, key: string, value: string | undefined, d: HaDirective): void {
  const v = value === undefined ? undefined : haDuration(value);
  if (v === undefined) {
    b.dropped.push({ d, reason: `"${value ?? ""}" is not a time (a number of milliseconds, or with us/ms/s/m/h/d)` });
    return;
  }
  const t = { ...(b.fields.timeout as Record<string, unknown> | undefined), [key]: v };
  b.fields.timeout = t;
  (b.origin.timeout ??= []).push(d);
  b.explicit.add("timeout");
  if (d.comment) b.comments.push({ path: ["timeout", key], text: d.comment });
}

/** The check object of the section, created on first use. */
function check(b: ProxyBuild, d: HaDirective): Record<string, unknown> {
  const c = (b.fields.check as Record<string, unknown> | undefined) ?? {};
  b.fields.check = c;
  (b.origin.check ??= []).push(d);
  b.explicit.add("check");
  return c;
}

/** `option httpchk [<method>] [<uri>] [<version>]`, with a Host header hidden in the version. */
function httpchk(b: ProxyBuild, d: HaDirective, args: string[]): void {
  const c = check(b, d);
  c.type = "http";
  if (args.length === 0) {
    c.method = "OPTIONS";
    c.path = "/";
  } else if (args.length === 1) {
    c.method = "OPTIONS";
    c.path = args[0];
  } else {
    c.method = args[0];
    c.path = args[1];
    const host = /\r?\nHost:\s*([^\r\n]+)/i.exec(args.slice(2).join(" "));
    if (host) c.host = host[1].trim();
  }
}

function httpCheck(b: ProxyBuild, d: HaDirective, args: string[]): void {
  const [kw, ...rest] = args;
  if (kw === "expect") {
    const neg = rest[0] === "!";
    const [what, value] = neg ? rest.slice(1) : rest;
    const ranges: Record<string, string> = { "^2": "200-299", "^[23]": "200-399", "^(2|3)": "200-399", "^3": "300-399" };
    if (!neg && what === "status" && /^\d{3}(-\d{3})?$/.test(value ?? "")) check(b, d).expect = { status: /^\d+$/.test(value) ? Number(value) : value };
    else if (!neg && what === "rstatus" && ranges[value ?? ""]) check(b, d).expect = { status: ranges[value] };
    else b.dropped.push({ d, reason: "tandem's HTTP check expects a status or a status range only" });
    return;
  }
  if (kw === "send") {
    const c = check(b, d);
    c.type = "http";
    for (let i = 0; i < rest.length; i++) {
      const [k, v] = [rest[i], rest[i + 1]];
      if (k === "meth") c.method = v;
      else if (k === "uri") c.path = v;
      else if (k === "ver") {
        // version only
      } else if (k === "hdr" && v?.toLowerCase() === "host") {
        c.host = rest[i + 2];
        i++;
      } else {
        b.dropped.push({ d, words: [k, v ?? ""], reason: "tandem's HTTP check sends a method, a path and a Host header only" });
      }
      i++;
    }
    return;
  }
  b.dropped.push({ d, reason: `http-check ${kw} has no tandem equivalent` });
}

function option(b: ProxyBuild, d: HaDirective, negated: boolean, name: string, args: string[]): void {
  // haproxy's forwardfor adds X-Forwarded-For only (tandem's default also sets -Proto and -Host).
  if (name === "forwardfor" && !negated) {
    const except = args[0] === "except" && args[1] !== undefined && isIP(args[1].split("/")[0]) !== 0 ? [args[1]] : undefined;
    set(b, "forwardfor", { ...(except ? { except } : {}), headers: ["for"] }, d);
    const rest = except ? args.slice(2) : args;
    if (rest.length > 0) b.dropped.push({ d, words: rest, reason: "tandem writes X-Forwarded-For (header and if-none are not configurable)", impact: "rewrite" });
    return;
  }
  if (OPTION_FLAGS[name]) {
    set(b, OPTION_FLAGS[name], !negated, d);
    if (name === "redispatch" && args.length > 0) b.dropped.push({ d, words: args, reason: "tandem redispatches on the last retry" });
    return;
  }
  if (negated) {
    b.dropped.push({ d, reason: `"no option ${name}" has no tandem equivalent` });
    return;
  }
  if (name === "httplog" || name === "tcplog" || name === "clf") set(b, "access_log", true, d);
  else if (name === "httpchk") httpchk(b, d, args);
  else if (name === "tcp-check") check(b, d).type = "tcp";
  else if (CHECK_PROTOCOLS.has(name)) b.dropped.push({ d, reason: `protocol checks are not supported: servers with check get a TCP connect check` });
  else if (name === "http-server-close" || name === "httpclose" || name === "forceclose") {
    if (b.kind === "frontend") b.dropped.push({ d, reason: "tandem keeps client connections alive; server-side reuse is set per backend (http_reuse)" });
    else set(b, "http_reuse", "never", d);
  } else if (name === "http-keep-alive") {
    // tandem's behaviour already: nothing to write.
  } else if (LOG_OPTIONS.has(name)) b.dropped.push({ d, reason: "log filtering options are not supported" });
  else if (name === "allbackups") b.dropped.push({ d, reason: "using all backup servers at once is not supported" });
  else if (/^(tcpka|clitcpka|srvtcpka)$/.test(name)) b.dropped.push({ d, reason: "TCP keep-alive probes are not configurable" });
  else b.dropped.push({ d, reason: `option ${name} has no tandem equivalent` });
}

function balance(b: ProxyBuild, d: HaDirective, args: string[]): void {
  const alg = args[0] ?? "";
  const random = /^random(\(\d+\))?$/.exec(alg);
  if (ALGORITHMS.has(alg) && args.length === 1) set(b, "balance", alg, d);
  else if (random) {
    set(b, "balance", "random", d);
    if (random[1]) b.dropped.push({ d, words: [alg], reason: "power-of-N choices is not supported: plain random" });
  } else b.dropped.push({ d, reason: `balance ${alg} is not supported (roundrobin, static-rr, leastconn, source, random, first); the default roundrobin applies` });
}

/** Bind options followed by one argument. */
const BIND_ARGS = /^(crt|crt-list|ca-file|alpn|npn|ciphers|ciphersuites|verify|name|id|process|thread|interface|maxconn|backlog|mss|nice|tcp-ut|mode|user|group|uid|gid|level|severity-output|namespace|accept-netscaler-cip|ssl-min-ver|ssl-max-ver|curves|ecdhe|expose-fd|proto|ca-sign-file|crl-file|sigalgs|client-sigalgs|label|guid-prefix|idle-ping)$/;
const TLS_BIND = /^(ssl|crt|crt-list|ca-file|alpn|npn|ciphers|ciphersuites|verify|ssl-min-ver|ssl-max-ver|curves|ecdhe|crl-file|sigalgs|client-sigalgs|strict-sni|ca-sign-file|generate-certificates|allow-0rtt|no-ca-names|prefer-client-ciphers|no-sslv3|no-tlsv1\d?|no-tls-tickets|force-\S+)$/;

function bind(b: ProxyBuild, d: HaDirective, addresses: string, params: string[]): void {
  let binds: string[];
  try {
    binds = haBindList(addresses);
  } catch (err) {
    b.dropped.push({ d, reason: (err as Error).message });
    return;
  }
  let acceptProxy = false;
  const tls: string[] = [];
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const arity = BIND_ARGS.test(p) ? 1 : 0;
    const words = params.slice(i, i + 1 + arity);
    i += arity;
    if (p === "accept-proxy") acceptProxy = true;
    else if (TLS_BIND.test(p)) tls.push(...words);
    else if (p === "transparent") b.dropped.push({ d, words, reason: "transparent binding is not supported" });
    else b.dropped.push({ d, words, reason: `the bind option "${p}" has no tandem equivalent` });
  }
  const t = tls.length > 0 ? bindTls(tls, b.tls) : { issues: [] };
  for (const i of t.issues) b.dropped.push({ d, words: i.words, reason: i.reason });
  // TLS asked for and not carried: no listener rather than a plaintext one on the same port.
  if (tls.includes("ssl") && !t.tls) {
    b.dropped.push({ d, reason: "this TLS listener cannot be carried, so it is not written (a plaintext listener on its port would be weaker)", impact: "security" });
    return;
  }
  for (const text of binds) {
    const entry = t.tls || acceptProxy ? { address: text, ...(acceptProxy ? { accept_proxy: true } : {}), ...(t.tls ? { tls: t.tls } : {}) } : text;
    push(b, "bind", entry, d);
  }
}

/** `store http_req_rate(10s),conn_cur,...` → the counters tandem keeps; others are reported. */
function storeCounters(b: ProxyBuild, d: HaDirective, list: string, counters: Record<string, unknown>): void {
  for (const item of list.split(/,(?![^(]*\))/)) {
    const m = /^(http_req_rate|conn_rate|http_err_rate)\(([^)]+)\)$/.exec(item);
    if (m && haDuration(m[2]) !== undefined) counters[m[1]] = haDuration(m[2]);
    else if (item === "conn_cur") counters.conn_cur = true;
    else b.dropped.push({ d, words: ["store", item], reason: "tandem keeps http_req_rate, conn_rate, http_err_rate and conn_cur (rules reading other counters are reported where they are)", impact: null });
  }
}

function stick(b: ProxyBuild, d: HaDirective, words: string[]): void {
  if (words[0] === "stick-table") {
    const fields: Record<string, unknown> = {};
    const counters: Record<string, unknown> = {};
    for (let i = 1; i < words.length; i++) {
      const [k, v] = [words[i], words[i + 1]];
      if (k === "type" && (v === "ip" || v === "ipv6")) fields.type = v;
      else if (k === "type") return void b.dropped.push({ d, reason: `stick tables of type ${v} are not supported (ip and ipv6 only)` });
      else if (k === "size") fields.size = v;
      else if (k === "expire") fields.expire = v;
      else if (k === "peers") b.dropped.push({ d, words: [k, v], reason: "stick tables are not shared between the two hosts: after a failover, clients may land on another server" });
      else if (k === "store") storeCounters(b, d, v ?? "", counters);
      else if (k === "nopurge") {
        b.dropped.push({ d, words: [k], reason: "tandem always purges the oldest entry when the table is full" });
        continue;
      } else b.dropped.push({ d, words: [k, v ?? ""], reason: "unknown stick-table option" });
      i++;
    }
    b.stickTable = { fields, d, counters };
    return;
  }
  const [, kind, pattern, ...rest] = words;
  if (!["on", "match", "store-request"].includes(kind)) return void b.dropped.push({ d, reason: `stick ${kind} is not supported (stick on src)` });
  if (pattern !== "src") return void b.dropped.push({ d, reason: `sticking on "${pattern}" is not supported: tandem sticks on the client address (src) only` });
  if (rest.length > 0) return void b.dropped.push({ d, reason: "stick rules with a table of another section or a condition are not supported" });
  b.stickOn = d;
}

function aclDirective(b: ProxyBuild, d: HaDirective): void {
  const [, name, ...body] = d.words;
  if (!name) return void b.dropped.push({ d, reason: "an ACL needs a name" });
  const entry = b.acls.get(name) ?? { results: [], line: d.line };
  entry.results.push(translateCriterion(body));
  b.acls.set(name, entry);
  if (d.comment) b.comments.push({ path: ["acls", name], text: d.comment });
}

function rule(b: ProxyBuild, d: HaDirective, key: string, r: RuleResult): void {
  if ("reason" in r) b.dropped.push({ d, reason: r.reason });
  else if ("never" in r) b.dropped.push({ d, reason: "its condition can never be true", impact: null });
  else if ("track" in r) track(b, d, "request", r.track.table);
  else push(b, key, r.rule, d);
}

function track(b: ProxyBuild, d: HaDirective, on: "request" | "connection", table: string | undefined): void {
  if (b.track) b.dropped.push({ d, reason: "tandem tracks the client address once per frontend" });
  else if ((b.fields.http_request as unknown[] | undefined)?.length) b.dropped.push({ d, reason: "tracking after other http-request rules: tandem counts each request before any rule", impact: "security" });
  else b.track = { d, on, table };
}

/** `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] ...` → the backend's cookie: key. */
function cookie(b: ProxyBuild, d: HaDirective, args: string[]): void {
  const [name, ...opts] = args;
  if (!name) return void b.dropped.push({ d, reason: "cookie needs a name" });
  const c: Record<string, unknown> = { name };
  const domains: string[] = [];
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    if (o === "insert" || o === "prefix" || o === "rewrite") c.mode = o;
    else if (/^(indirect|nocache|postonly|preserve|httponly|secure)$/.test(o)) c[o] = true;
    else if (o === "domain" && opts[i + 1]) domains.push(opts[++i]);
    else if (o === "maxidle" || o === "maxlife" || o === "attr") b.dropped.push({ d, words: [o, opts[++i] ?? ""], reason: "cookie lifetimes and attributes are not supported: the cookie lasts the browser session", impact: null });
    else if (o === "dynamic") b.dropped.push({ d, words: [o], reason: "dynamic cookies are not supported: give each server a cookie value" });
    else b.dropped.push({ d, words: [o], reason: `the cookie option "${o}" has no tandem equivalent` });
  }
  if (domains.length) c.domain = domains;
  if (c.mode === undefined) c.mode = "rewrite";
  set(b, "cookie", c, d);
}

/** Translates one directive of a proxy or defaults section into b. */
export function applyDirective(b: ProxyBuild, d: HaDirective): void {
  const w = d.words;
  const negated = w[0] === "no" && w[1] === "option";
  const kw = negated ? "option" : w[0] === "default" && w[1] === "option" ? "default-option" : w[0];
  // Every section keeps its ACLs by name (tandem backends have acls: too).
  const named = true;
  switch (kw) {
    case "mode":
      if (w[1] === "tcp" || w[1] === "http") set(b, "mode", w[1], d);
      else b.dropped.push({ d, reason: `mode ${w[1]} is not supported (tcp or http)` });
      return;
    case "bind":
      return bind(b, d, w[1] ?? "", w.slice(2));
    case "maxconn": {
      const n = Number(w[1]);
      if (!Number.isInteger(n) || n < 1) b.dropped.push({ d, reason: `"${w[1]}" is not a connection count` });
      else set(b, "maxconn", n, d);
      return;
    }
    case "timeout":
      if (TIMEOUTS[w[1]]) return timeout(b, TIMEOUTS[w[1]], w[2], d);
      return void b.dropped.push({ d, reason: `timeout ${w[1]} has no tandem equivalent (connect, client, server, queue, check, http-request, http-keep-alive, tunnel)` });
    case "contimeout":
    case "clitimeout":
    case "srvtimeout":
      return timeout(b, OLD_TIMEOUTS[kw], w[1], d);
    case "balance":
      return balance(b, d, w.slice(1));
    case "hash-type":
      if (w[1] === "consistent" || w[1] === "map-based") {
        set(b, "hash", w[1] === "consistent" ? "consistent" : "map", d);
        if (w.length > 2) b.dropped.push({ d, words: w.slice(2), reason: "the hash function is not configurable" });
      } else b.dropped.push({ d, reason: `hash-type ${w[1]} is not supported (map-based or consistent)` });
      return;
    case "retries": {
      const n = Number(w[1]);
      if (!Number.isInteger(n) || n < 0 || n > 100) b.dropped.push({ d, reason: "retries must be 0..100" });
      else set(b, "retries", n, d);
      return;
    }
    case "retry-on":
      return set(b, "retry_on", w.slice(1), d);
    case "http-reuse":
      if (w[1] === "never" || w[1] === "safe") set(b, "http_reuse", w[1], d);
      else if (w[1] === "aggressive" || w[1] === "always") {
        set(b, "http_reuse", "safe", d);
        b.dropped.push({ d, reason: `http-reuse ${w[1]} is not supported: safe is the closest` });
      } else b.dropped.push({ d, reason: `http-reuse ${w[1]} is not supported (never or safe)` });
      return;
    case "option":
      return option(b, d, negated, negated ? w[2] : w[1], w.slice(negated ? 3 : 2));
    case "default-option":
      return void b.dropped.push({ d, reason: "resetting an option to its default: nothing to write" });
    case "http-check":
      return httpCheck(b, d, w.slice(1));
    case "server": {
      const r = translateServer(w, b.defaultServer, b.tls);
      // What default-server lines carry is reported once, at those lines.
      for (const i of r.issues) if (!i.inherited) b.dropped.push({ d, words: ["server", r.name, ...i.words], reason: i.reason, impact: i.impact });
      if (r.server) {
        const servers = (b.fields.servers as Record<string, unknown> | undefined) ?? {};
        if (servers[r.name]) b.dropped.push({ d, reason: `server "${r.name}" is defined twice; the first one is kept` });
        else servers[r.name] = r.server;
        b.fields.servers = servers;
        (b.origin.servers ??= []).push(d);
        b.explicit.add("servers");
        if (d.comment) b.comments.push({ path: ["servers", r.name], text: d.comment });
      }
      if (r.shutdownOnDown) b.shutdownOnDown = d;
      return;
    }
    case "default-server": {
      b.defaultServer = [...b.defaultServer, ...w.slice(1)];
      const probe = translateServer(["server", "", "127.0.0.1", "check", ...w.slice(1)], [], b.tls);
      for (const i of probe.issues) b.dropped.push({ d, words: i.words, reason: i.reason, impact: i.impact });
      return;
    }
    case "acl":
      return aclDirective(b, d);
    case "use_backend": {
      const [, backend, ...cond] = w;
      if (!backend || /%\[/.test(backend)) return void b.dropped.push({ d, reason: "dynamic backend names are not supported" });
      if (cond.length === 0) return push(b, "use_backend", { backend }, d);
      const c = translateCondition(cond, b.acls, named);
      if ("reason" in c) b.dropped.push({ d, reason: c.reason });
      else if ("never" in c) b.dropped.push({ d, reason: "its condition can never be true" });
      else push(b, "use_backend", "always" in c ? { backend } : { backend, if: c.cond }, d);
      return;
    }
    case "default_backend":
      return set(b, "default_backend", w[1], d);
    case "http-request":
      return rule(b, d, "http_request", translateHttpRequest(w, b.acls, named));
    case "http-response":
      return rule(b, d, "http_response", translateHttpResponse(w, b.acls, named));
    case "stick-table":
    case "stick":
      return stick(b, d, w);
    case "cookie":
      return cookie(b, d, w.slice(1));
    case "monitor-uri":
      if (!w[1]?.startsWith("/")) return void b.dropped.push({ d, reason: "monitor-uri needs a path" });
      return set(b, "monitor_uri", w[1], d);
    case "tcp-request":
      if (w[1] === "inspect-delay") return void b.dropped.push({ d, reason: "tandem reads no request content in mode tcp: there is nothing to wait for", impact: null });
      if ((w[1] === "connection" || w[1] === "content" || w[1] === "session") && w[2] === "track-sc0" && w[3] === "src" && (w.length === 4 || (w[4] === "table" && w.length === 6))) {
        return track(b, d, w[1] === "content" ? "request" : "connection", w[5]);
      }
      break;
    case "errorfile":
      if (/^[1-5]\d\d$/.test(w[1] ?? "") && w[2]) {
        const e = { ...(b.fields.errorfiles as Record<string, string> | undefined), [w[1]]: w[2] };
        set(b, "errorfiles", e, d);
      } else b.dropped.push({ d, reason: "errorfile needs a status and a file" });
      return;
    case "stats":
      b.stats.push(d);
      return;
    case "disabled":
      b.disabled = d;
      return;
  }
  const legacy = translateLegacyRule(w, b.acls, named);
  if (legacy) return rule(b, d, legacy.side === "request" ? "http_request" : "http_response", legacy.result);
  b.dropped.push({ d, reason: UNSUPPORTED[kw] ?? `"${kw}" has no tandem equivalent` });
}
