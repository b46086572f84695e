// haproxy.cfg → tandem's global, defaults, proxies/frontends/backends and stats sections.

import type { HaConfig, HaSection } from "./haproxy_cfg.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes, YamlPath } from "./notes.ts";
import { directiveText } from "./notes.ts";
import { globalTls } from "./haproxy_tls.ts";
import type { Ctx } from "./haproxy_context.ts";
import { drop } from "./haproxy_context.ts";
import { aclDefinition } from "./haproxy_acl.ts";
import { applyDirective, newBuild } from "./haproxy_proxy.ts";
import type { ProxyBuild } from "./haproxy_proxy.ts";
import { haDuration } from "./haproxy_values.ts";
import { frontendStats, translateStats } from "./haproxy_stats.ts";
import { translateUserlist } from "./haproxy_userlist.ts";

/** Keys each kind of tandem section accepts (mirrors src/config/schema.ts; a test keeps them in step). */
export const FRONTEND_KEYS = ["mode", "bind", "maxconn", "timeout", "acls", "use_backend", "default_backend", "http_request", "http_response", "forwardfor", "via", "access_log", "errorfiles", "limits", "allow_h2c_upgrade", "monitor_uri", "counters"];
export const BACKEND_KEYS = ["mode", "balance", "servers", "stick", "persist", "redispatch", "abort_on_close", "retries", "retry_on", "maxconn", "timeout", "check", "on_marked_down", "http_reuse", "http_response", "http_request", "acls", "errorfiles", "cookie"];
export const DEFAULTS_KEYS = ["mode", "timeout", "balance", "retries", "retry_on", "maxconn", "redispatch", "abort_on_close", "forwardfor", "check", "http_reuse", "access_log"];

/** The order keys are written in, close to haproxy's usual order, servers last. */
const KEY_ORDER = [
  "mode", "bind", "timeout", "monitor_uri", "counters", "acls", "use_backend", "default_backend", "http_request", "http_response", "forwardfor", "access_log",
  "errorfiles", "balance", "cookie", "persist", "stick", "redispatch", "abort_on_close", "retries", "retry_on", "maxconn", "check",
  "on_marked_down", "http_reuse", "servers",
];

/** What haproxy does when neither the section nor its defaults say anything. */
const HAPROXY_BUILTIN: Record<string, unknown> = {
  mode: "tcp", balance: "roundrobin", retries: 3, redispatch: false, abort_on_close: false, forwardfor: false, http_reuse: "safe", access_log: false,
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function ordered(fields: Record<string, unknown>, allowed: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (allowed.includes(k) && fields[k] !== undefined) out[k] = fields[k];
  return out;
}

const GLOBAL_REASONS: Record<string, string> = {
  daemon: "tandem stays in the foreground; run it under systemd",
  "master-worker": "tandem stays in the foreground; run it under systemd",
  user: "tandem does not change user: run it as the user of its systemd unit (root when it runs VRRP)",
  group: "tandem does not change group: set Group= in its systemd unit",
  uid: "tandem does not change user: run it as the user of its systemd unit (root when it runs VRRP)",
  gid: "tandem does not change group: set Group= in its systemd unit",
  chroot: "tandem does not chroot; use systemd's sandboxing options",
  log: "tandem logs to stdout (journald); choose the format with --log-format",
  "log-send-hostname": "tandem logs to stdout (journald)",
  "log-tag": "tandem logs to stdout (journald)",
  "ulimit-n": "set LimitNOFILE= in tandem's systemd unit",
  "spread-checks": "tandem spreads its checks itself",
  "lua-load": "Lua is not supported",
  quiet: "tandem's log level is set with --log-level",
  description: "descriptions are not kept (write a YAML comment)",
};

function translateGlobal(ctx: Ctx, s: HaSection): void {
  const g = (ctx.out.data.global as Record<string, unknown> | undefined) ?? {};
  const at = ["global"];
  if (s.comment) ctx.out.comments.push({ path: at, text: s.comment, place: "before" });
  let tlsIssues: ReturnType<typeof globalTls>;
  for (const d of s.directives) {
    const [kw, a1, ...rest] = d.words;
    const n = Number(a1);
    const note = (path: string) => d.comment && ctx.out.comments.push({ path: ["global", path], text: d.comment, place: "after" });
    if (kw === "maxconn" && Number.isInteger(n) && n > 0) {
      g.maxconn = n;
      note("maxconn");
    } else if (kw === "pidfile" && a1) {
      g.pidfile = "/run/tandem.pid";
      ctx.notes.info(ctx.cfg.file, d.line, `pidfile was ${a1}; tandem writes its own so haproxy and tandem can run side by side while you move`, [...at, "pidfile"]);
    } else if (kw === "stats" && a1 === "socket") {
      const path = rest[0] ?? "";
      if (!path.startsWith("/")) {
        drop(ctx, d, "the admin socket is a unix socket path", at);
        continue;
      }
      const modeAt = rest.indexOf("mode");
      const mode = modeAt >= 0 && /^[0-7]{3,4}$/.test(rest[modeAt + 1] ?? "") ? rest[modeAt + 1].padStart(4, "0") : "0600";
      if (g.admin_socket) {
        drop(ctx, d, "tandem has one admin socket", at);
        continue;
      }
      g.admin_socket = { path: "/run/tandem.sock", mode };
      ctx.notes.info(ctx.cfg.file, d.line, `admin socket was ${path}; tandem's own socket speaks tandem's commands (tandem ctl), not haproxy's`, [...at, "admin_socket"]);
      const extra = rest.slice(1).filter((w, i, all) => !(w === "mode" || all[i - 1] === "mode") && !(w === "level" || all[i - 1] === "level"));
      if (extra.length > 0) drop(ctx, d, "socket options other than mode are not supported", at, extra);
    } else if (kw === "stats") {
      drop(ctx, d, "tandem's admin socket has no such setting", at);
    } else if ((kw === "nbthread" || kw === "nbproc") && Number.isInteger(n) && n > 0) {
      if (kw === "nbproc" && n === 1) continue;
      g.workers = n;
      note("workers");
    } else if (kw === "node" && a1) g.hostname = a1;
    else if (kw === "hard-stop-after" && a1 && haDuration(a1) !== undefined) g.grace_period = haDuration(a1);
    else if ((tlsIssues = globalTls(kw, d.words.slice(1), ctx.tls)) !== undefined) {
      // crt-base, ssl-default-bind-*...: carried into each bind and server line (haproxy_tls.ts).
      for (const i of tlsIssues) drop(ctx, d, i.reason, at, i.words);
    } else if (kw.startsWith("tune.") || kw.startsWith("ssl-")) drop(ctx, d, kw.startsWith("ssl-") ? "TLS is not supported" : "tuning knobs have no tandem equivalent", at);
    else drop(ctx, d, GLOBAL_REASONS[kw] ?? `"${kw}" has no tandem equivalent`, at);
  }
  const order = ["maxconn", "pidfile", "admin_socket", "workers", "hostname", "grace_period"];
  const sorted = Object.fromEntries(Object.entries(g).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
  if (Object.keys(sorted).length > 0) ctx.out.data.global = sorted;
}

/** The defaults a proxy section uses: `from NAME`, else the last defaults section before it. */
function defaultsFor(s: HaSection, last: ProxyBuild | undefined, named: Map<string, ProxyBuild>): ProxyBuild | undefined {
  const from = s.args.indexOf("from");
  return from >= 0 ? named.get(s.args[from + 1]) ?? last : last;
}

/** Fills in what a proxy inherits from its own defaults section where that differs from the written defaults. */
function inherit(ctx: Ctx, b: ProxyBuild, own: ProxyBuild | undefined, written: ProxyBuild | undefined, at: YamlPath): void {
  const of = (p: ProxyBuild | undefined, k: string) => p?.fields[k];
  for (const k of DEFAULTS_KEYS) {
    if (k === "timeout") continue;
    if (b.explicit.has(k) || same(of(own, k), of(written, k))) continue;
    const v = of(own, k) ?? HAPROXY_BUILTIN[k];
    if (v !== undefined) b.fields[k] = v;
    else ctx.notes.info(ctx.cfg.file, b.section.line, `its defaults section sets no ${k}; the written defaults' ${k} applies`, at);
  }
  const ot = (of(own, "timeout") ?? {}) as Record<string, unknown>;
  const wt = (of(written, "timeout") ?? {}) as Record<string, unknown>;
  const t = { ...(b.fields.timeout as Record<string, unknown> | undefined) };
  for (const k of new Set([...Object.keys(ot), ...Object.keys(wt)])) {
    if (t[k] !== undefined || same(ot[k], wt[k])) continue;
    if (ot[k] !== undefined) t[k] = ot[k];
    else ctx.notes.info(ctx.cfg.file, b.section.line, `haproxy had no timeout ${k} here (it waited forever); the written defaults' value applies`, at);
  }
  if (Object.keys(t).length > 0) b.fields.timeout = t;
  // Inherited settings tandem's defaults section cannot hold (haproxy ignores errorfiles in mode tcp).
  // Errorfiles of defaults go to frontends (which answer every error of their requests unless the
  // backend has its own pages); a backend keeps only those written in its own section.
  const tcp = (b.fields.mode ?? own?.fields.mode ?? "tcp") === "tcp";
  for (const k of ["persist", "errorfiles", "hash", "cookie"]) {
    if (k === "errorfiles" && (tcp || b.kind === "backend")) continue;
    if (!b.explicit.has(k) && own?.fields[k] !== undefined) b.fields[k] = structuredClone(own.fields[k]);
  }
  if (tcp && b.explicit.has("errorfiles")) {
    for (const d of b.origin.errorfiles ?? []) ctx.notes.info(ctx.cfg.file, d.line, "haproxy ignores errorfile in mode tcp: not written", at);
    delete b.fields.errorfiles;
  }
}

/** Where a listen section goes: stats page, frontend (no servers but routing), or proxy. */
function listenKind(b: ProxyBuild): "stats" | "frontends" | "proxies" {
  if (b.fields.mode !== "http" && b.stats.length > 0 && Object.keys((b.fields.servers as object | undefined) ?? {}).length === 0) return "stats";
  const servers = Object.keys((b.fields.servers as object | undefined) ?? {}).length;
  const routes = b.fields.default_backend !== undefined || b.fields.use_backend !== undefined;
  const stats = b.stats.some((d) => d.words[1] === "enable" || d.words[1] === "uri");
  if (servers === 0 && !routes && stats) return "stats";
  if (servers === 0 && routes) return "frontends";
  return "proxies";
}

/**
 * `track-sc0 src` with the stick-table it fills (its own, or `table NAME`) → the frontend's
 * counters: (haproxy keeps them in the table; tandem per frontend).
 */
function finishCounters(ctx: Ctx, b: ProxyBuild, tables: Map<string, ProxyBuild>, at: YamlPath): void {
  const t = b.track;
  if (!t) return;
  const owner = t.table ? tables.get(t.table) : b;
  const table = owner?.stickTable;
  if (!table || Object.keys(table.counters).length === 0) {
    drop(ctx, t.d, t.table && !owner ? `no section named "${t.table}"` : "the table stores no counter tandem keeps (http_req_rate, conn_rate, http_err_rate, conn_cur)", at, undefined, "security");
    return;
  }
  if (owner !== b) owner.tableUsed = true;
  b.fields.counters = { track: t.on, ...table.fields, ...table.counters };
  delete (b.fields.counters as Record<string, unknown>).type;
}

/** Turns the section-level pieces (stick, hash, on-marked-down) into tandem keys. */
function finishBackendKeys(ctx: Ctx, b: ProxyBuild, at: YamlPath): void {
  const counters = b.stickTable && Object.keys(b.stickTable.counters).length > 0;
  if (b.stickOn) b.fields.stick = { on: "src", ...(b.stickTable?.fields ?? {}) };
  else if (b.stickTable && !b.track && !b.tableUsed) drop(ctx, b.stickTable.d, counters ? "a table of counters no section tracks (track-sc0 src)" : "a table nothing sticks on", at, undefined, null);
  if (b.stickOn?.comment) b.comments.push({ path: ["stick"], text: b.stickOn.comment });
  if (b.fields.hash === "consistent") b.fields.balance = { algorithm: b.fields.balance ?? "roundrobin", hash: "consistent" };
  delete b.fields.hash;
  if (b.shutdownOnDown) b.fields.on_marked_down = "shutdown_sessions";
}

/** Reports keys the target kind cannot hold, then removes them. */
function dropMisplaced(ctx: Ctx, b: ProxyBuild, allowed: string[], kindName: string, at: YamlPath): void {
  for (const k of Object.keys(b.fields)) {
    if (allowed.includes(k) || k === "forwardfor") continue;
    // haproxy ignores these where they do not belong (with a warning): nothing is lost.
    const why = kindName === "frontend" ? "haproxy ignores it in a frontend; it belongs in a backend" : `haproxy ignores it in a ${kindName}; it belongs in a frontend`;
    for (const d of b.origin[k] ?? []) if (b.explicit.has(k)) drop(ctx, d, why, at, undefined, null);
    delete b.fields[k];
  }
}

/**
 * Translates cfg into out.data (global, defaults, proxies, frontends, backends, stats), reporting
 * every directive it cannot carry into notes with its file:line.
 */
export function translateHaproxy(cfg: HaConfig, out: ImportOutput, notes: ImportNotes): void {
  const ctx: Ctx = { cfg, out, notes, lines: new WeakMap(), tls: { bind: {}, server: {} } };
  for (const p of cfg.problems) notes.warn(cfg.file, p.line, p.message);
  const named = new Map<string, ProxyBuild>();
  let lastDefaults: ProxyBuild | undefined;
  const builds: { b: ProxyBuild; defaults?: ProxyBuild }[] = [];
  for (const s of cfg.sections) {
    if (s.kind === "global") translateGlobal(ctx, s);
    else if (s.kind === "defaults") {
      const from = s.args.indexOf("from");
      const base = from >= 0 ? named.get(s.args[from + 1]) : undefined;
      const b = newBuild("defaults", s);
      b.tls = ctx.tls;
      if (base) {
        b.fields = structuredClone(base.fields);
        b.defaultServer = [...base.defaultServer];
      }
      for (const d of s.directives) applyDirective(b, d);
      if (s.name) named.set(s.name, b);
      lastDefaults = b;
      builds.push({ b });
    } else if (s.kind === "listen" || s.kind === "frontend" || s.kind === "backend") {
      const b = newBuild(s.kind, s);
      b.tls = ctx.tls;
      const defaults = defaultsFor(s, lastDefaults, named);
      b.defaultServer = [...(defaults?.defaultServer ?? [])];
      const header = s.args.filter((_, i) => s.args[i] !== "from" && s.args[i - 1] !== "from");
      if (header.length > 0 && s.kind !== "backend") applyDirective(b, { words: ["bind", ...header], line: s.line, comment: s.comment });
      for (const d of s.directives) applyDirective(b, d);
      builds.push({ b, defaults });
    } else if (s.kind === "userlist") translateUserlist(ctx, s);
    else if (s.kind === "fcgi-app") notes.refused(cfg.file, s.line, directiveText([s.kind, s.name ?? ""]), "FastCGI servers are not supported: tandem speaks HTTP to servers", "routing");
    else notes.untranslated(cfg.file, s.line, directiveText([s.kind, ...(s.name ? [s.name] : [])]), sectionReason(s.kind));
  }
  const tables = new Map(builds.filter((x) => x.b.kind !== "defaults").map((x) => [x.b.name, x.b]));
  const proxies = builds.filter((x) => x.b.kind !== "defaults");
  const written = proxies[0]?.defaults ?? lastDefaults;
  writeDefaults(ctx, written, proxies.length > 0);
  for (const x of builds.filter((y) => y.b.kind === "defaults")) {
    for (const dr of x.b.dropped) drop(ctx, dr.d, dr.reason, ["defaults"], dr.words, dr.impact);
    for (const d of x.b.stats) drop(ctx, d, "stats belong in tandem's stats section", ["defaults"]);
    for (const [k, ds] of Object.entries(x.b.origin)) {
      if (DEFAULTS_KEYS.includes(k) || ["persist", "errorfiles", "hash", "cookie"].includes(k)) continue;
      for (const d of ds) drop(ctx, d, `tandem's defaults section has no ${k}: write it in each section`, ["defaults"]);
    }
  }
  let statsDone = false;
  for (const { b, defaults } of proxies) {
    if (b.disabled) {
      drop(ctx, b.disabled, `the ${b.kind} "${b.name}" is disabled in haproxy, so it is not imported`, undefined);
      continue;
    }
    const kind = b.kind === "listen" ? listenKind(b) : b.kind === "frontend" ? "frontends" : "backends";
    const at: YamlPath = kind === "stats" ? ["stats"] : [kind, b.name];
    for (const dr of b.dropped) drop(ctx, dr.d, dr.reason, at, dr.words, dr.impact);
    for (const [name, acl] of b.acls) {
      const failed = acl.results.find((r) => "reason" in r) as { reason: string } | undefined;
      // The rules that use it are refused where they are.
      if (failed) notes.untranslated(cfg.file, acl.line, `acl ${name}`, failed.reason, at);
    }
    if (kind === "stats") {
      statsDone = translateStats(ctx, b, statsDone) || statsDone;
      continue;
    }
    frontendStats(ctx, b, at);
    inherit(ctx, b, defaults, written, at);
    finishCounters(ctx, b, tables, at);
    finishBackendKeys(ctx, b, at);
    const acls: Record<string, unknown> = {};
    for (const [name, acl] of b.acls) {
      const def = aclDefinition(acl.results);
      if (def !== undefined) acls[name] = def;
    }
    if (Object.keys(acls).length > 0) b.fields.acls = acls;
    const allowed = kind === "proxies" ? [...new Set([...FRONTEND_KEYS, ...BACKEND_KEYS])] : kind === "frontends" ? FRONTEND_KEYS : BACKEND_KEYS;
    dropMisplaced(ctx, b, allowed, kind === "frontends" ? "frontend" : kind === "backends" ? "backend" : "proxy", at);
    (b.fields.use_backend as object[] | undefined)?.forEach((r, i) => ctx.lines.set(r, b.origin.use_backend[i].line));
    const section = (out.data[kind] as Record<string, unknown> | undefined) ?? {};
    if (kind !== "frontends" && !b.fields.servers) b.fields.servers = {};
    // One bind is written as a plain value, several as a list.
    if (Array.isArray(b.fields.bind) && b.fields.bind.length === 1) {
      b.fields.bind = b.fields.bind[0];
      b.comments = b.comments.map((c) => (c.path[0] === "bind" ? { ...c, path: ["bind"] } : c));
    }
    const entry = { ...ordered(b.fields, allowed), ...(b.fields.forwardfor !== undefined && !allowed.includes("forwardfor") ? { forwardfor: b.fields.forwardfor } : {}) };
    ctx.lines.set(entry, b.origin.default_backend?.[0].line ?? b.section.line);
    section[b.name] = entry;
    out.data[kind] = section;
    if (b.section.comment && b.section.args.length === 0) out.comments.push({ path: at, text: b.section.comment, place: "before" });
    for (const c of b.comments) out.comments.push({ path: [...at, ...c.path], text: c.text, place: "after" });
  }
  resolveRouting(ctx);
  quietUnused(ctx);
}

/**
 * A backend no frontend routes to carries no traffic: what it lost changes nothing, so its
 * refusals become warnings (haproxy still checks its servers; tandem does too).
 */
function quietUnused(ctx: Ctx): void {
  const data = ctx.out.data as Record<string, Record<string, Record<string, unknown>> | undefined>;
  const used = new Set<string>(Object.keys(data.proxies ?? {}));
  for (const kind of ["proxies", "frontends"] as const) {
    for (const f of Object.values(data[kind] ?? {})) {
      if (typeof f.default_backend === "string") used.add(f.default_backend);
      for (const r of (f.use_backend as { backend: string }[] | undefined) ?? []) used.add(r.backend);
    }
  }
  for (const n of ctx.notes.items) {
    if (n.kind !== "refused" || n.at?.[0] !== "backends" || used.has(String(n.at[1]))) continue;
    n.kind = "untranslated";
    n.message += `; backend "${n.at[1]}" is not used by any frontend, so nothing is lost`;
    delete n.impact;
  }
}

function sectionReason(kind: string): string {
  switch (kind) {
    case "peers":
      return "stick tables are not shared between the two hosts: after a failover, clients may land on another server";
    case "userlist":
      return "user lists are not supported (stats: auth: is)";
    case "resolvers":
      return "DNS resolution at run time is not supported: server names are resolved when tandem starts";
    case "mailers":
      return "haproxy's mailers become notify: and alerts: (on: server_down) in tandem";
    case "program":
      return "tandem does not run programs: use systemd units";
    case "cache":
      return "caching is not supported";
    default:
      return `the ${kind} section has no tandem equivalent`;
  }
}

/** Writes the defaults section tandem gets: the one the first proxy used, with haproxy's mode tcp made explicit. */
function writeDefaults(ctx: Ctx, d: ProxyBuild | undefined, anyProxy: boolean): void {
  if (!d && !anyProxy) return;
  const fields = { ...(d?.fields ?? {}) };
  if (fields.mode === undefined && anyProxy) {
    fields.mode = "tcp";
    ctx.notes.info(ctx.cfg.file, d?.section.line ?? 0, "mode tcp written out: it is haproxy's default, and tandem's is http", ["defaults", "mode"]);
  }
  if (fields.hash === "consistent") fields.balance = { algorithm: fields.balance ?? "roundrobin", hash: "consistent" };
  const out = ordered(fields, DEFAULTS_KEYS);
  ctx.out.data.defaults = out;
  if (d?.section.comment) ctx.out.comments.push({ path: ["defaults"], text: d.section.comment, place: "before" });
  for (const c of d?.comments ?? []) if (DEFAULTS_KEYS.includes(String(c.path[0]))) ctx.out.comments.push({ path: ["defaults", ...c.path], text: c.text, place: "after" });
}

/**
 * Checks use_backend/default_backend targets, turns a trailing unconditional use_backend into
 * default_backend, and moves a backend's `option forwardfor` to the frontends that route to it.
 */
function resolveRouting(ctx: Ctx): void {
  const data = ctx.out.data as Record<string, Record<string, Record<string, unknown>> | undefined>;
  const backendNames = new Set([...Object.keys(data.proxies ?? {}), ...Object.keys(data.backends ?? {})]);
  const forwardfor = new Map(Object.entries(data.backends ?? {}).filter(([, b]) => b.forwardfor !== undefined && b.forwardfor !== false).map(([n, b]) => [n, b.forwardfor]));
  for (const [, b] of Object.entries(data.backends ?? {})) delete b.forwardfor;
  for (const kind of ["proxies", "frontends"] as const) {
    for (const [name, f] of Object.entries(data[kind] ?? {})) {
      const at = [kind, name];
      const rules = (f.use_backend as { backend: string; if?: unknown }[] | undefined) ?? [];
      const kept: { backend: string; if?: unknown }[] = [];
      rules.forEach((r, i) => {
        if (!backendNames.has(r.backend)) {
          ctx.notes.refused(ctx.cfg.file, ctx.lines.get(r) ?? 0, `use_backend ${r.backend}`, `backend "${r.backend}" is not in the output`, "routing", at);
        } else if (r.if === undefined) {
          if (i === rules.length - 1 && f.default_backend === undefined) f.default_backend = r.backend;
          else if (i === rules.length - 1) ctx.notes.info(ctx.cfg.file, ctx.lines.get(r) ?? 0, `use_backend ${r.backend} without a condition comes before default_backend: it is written as default_backend`, at);
          else ctx.notes.refused(ctx.cfg.file, ctx.lines.get(r) ?? 0, `use_backend ${r.backend}`, "an unconditional use_backend before other rules: tandem needs a condition (or default_backend)", "routing", at);
          if (i === rules.length - 1) f.default_backend = r.backend;
        } else kept.push(r);
      });
      if (kept.length > 0) f.use_backend = kept;
      else delete f.use_backend;
      if (typeof f.default_backend === "string" && !backendNames.has(f.default_backend)) {
        ctx.notes.refused(ctx.cfg.file, ctx.lines.get(f) ?? 0, `default_backend ${f.default_backend}`, `backend "${f.default_backend}" is not in the output`, "routing", at);
        delete f.default_backend;
      }
      const targets = [...kept.map((r) => r.backend), ...(typeof f.default_backend === "string" ? [f.default_backend] : [])];
      const withFf = targets.filter((t) => forwardfor.has(t));
      if (withFf.length > 0 && f.forwardfor === undefined) {
        f.forwardfor = forwardfor.get(withFf[0]);
        const others = [...new Set(targets.filter((t) => !forwardfor.has(t)))];
        const also = others.length > 0 ? `; it now also applies to ${others.join(", ")}` : "";
        ctx.notes.info(ctx.cfg.file, ctx.lines.get(f) ?? 0, `forwardfor comes from backend ${[...new Set(withFf)].join(", ")}: tandem adds X-Forwarded-For in the frontend${also}`, [...at, "forwardfor"]);
      }
      const ordered = Object.fromEntries(Object.entries(f).sort(([a], [b]) => KEY_ORDER.indexOf(a) - KEY_ORDER.indexOf(b)));
      for (const k of Object.keys(f)) delete f[k];
      Object.assign(f, ordered);
    }
  }
}

