// A haproxy `listen` that only serves the statistics page → tandem's stats section.

import type { ProxyBuild } from "./haproxy_proxy.ts";
import type { Ctx } from "./haproxy_context.ts";
import { drop } from "./haproxy_context.ts";
import { haDuration } from "./haproxy_values.ts";

/** `stats refresh <delay>`: a bare number is seconds there (unlike haproxy's other times). */
function refreshOf(arg: string): number | string | undefined {
  return /^\d+$/.test(arg) ? `${arg}s` : haDuration(arg);
}

/** haproxy's stats URI when `stats enable` gives none. */
const HAPROXY_STATS_URI = "/haproxy?stats";

const COSMETIC = new Set(["realm", "hide-version", "show-legends", "show-node", "show-desc", "show-modules", "scope"]);

/**
 * Writes ctx.out.data.stats from a stats-only listen section b; everything else in the section
 * is reported. Returns true when it wrote the section (false: a stats page was already written).
 */
export function translateStats(ctx: Ctx, b: ProxyBuild, already: boolean): boolean {
  const at = ["stats"];
  if (already) {
    for (const d of [...b.stats, ...b.section.directives]) drop(ctx, d, "tandem serves one stats page", at);
    return false;
  }
  const binds = (b.fields.bind as (string | { address: string })[] | undefined) ?? [];
  if (binds.length === 0) {
    drop(ctx, { words: ["listen", b.name], line: b.section.line }, "the stats page has no address to listen on", undefined);
    return false;
  }
  const first = binds[0];
  const stats: Record<string, unknown> = { bind: typeof first === "string" ? first : first.address };
  const bindOrigin = b.origin.bind ?? [];
  if (typeof first === "string" && first.includes(",")) drop(ctx, bindOrigin[0], "the stats page listens on one port", at);
  for (const d of bindOrigin.slice(1)) drop(ctx, d, "the stats page listens on one address", at);
  let uri: string | undefined;
  for (const d of b.stats) {
    const [, kw, arg] = d.words;
    if (kw === "enable") continue;
    if (kw === "uri" && arg) {
      uri = arg;
      if (d.comment) ctx.out.comments.push({ path: ["stats", "uri"], text: d.comment, place: "after" });
    } else if (kw === "auth" && arg?.includes(":")) {
      if (stats.auth) drop(ctx, d, "tandem's stats page has one user", at);
      else {
        const i = arg.indexOf(":");
        stats.auth = { user: arg.slice(0, i), password: arg.slice(i + 1) };
      }
    } else if (kw === "admin") {
      stats.admin = true;
      const cond = d.words.slice(2).join(" ");
      if (cond !== "if TRUE") ctx.notes.info(ctx.cfg.file, d.line, `stats admin ${cond}: tandem grants admin to whoever passes stats auth`, ["stats", "admin"]);
    } else if (kw === "refresh" && arg && refreshOf(arg) !== undefined) stats.refresh = refreshOf(arg);
    else if (COSMETIC.has(kw)) drop(ctx, d, "tandem's stats page is not configurable that way", at);
    else drop(ctx, d, `stats ${kw} has no tandem equivalent`, at);
  }
  stats.uri = uri ?? HAPROXY_STATS_URI;
  ctx.out.data.stats = { bind: stats.bind, uri: stats.uri, ...(stats.auth ? { auth: stats.auth } : {}), ...(stats.admin ? { admin: true } : {}), ...(stats.refresh !== undefined ? { refresh: stats.refresh } : {}) };
  for (const [k, ds] of Object.entries(b.origin)) {
    if (k === "bind" || (k === "mode" && b.fields.mode === "http")) continue;
    for (const d of ds) drop(ctx, d, "the stats page has no such setting", at);
  }
  if (b.section.comment) ctx.out.comments.push({ path: ["stats", "bind"], text: b.section.comment, place: "after" });
  return true;
}

/**
 * `stats enable|uri|auth|realm|refresh` in a frontend, backend or a listen with servers: the page
 * on a path of that proxy (haproxy serves it there after the http-request rules) → a `stats`
 * rule at the end of its http_request rules; `stats auth` becomes a userlist and an `auth` rule
 * in front of it. `stats admin` actions stay on the stats section's address (read-only here).
 */
export function frontendStats(ctx: Ctx, b: ProxyBuild, at: (string | number)[]): void {
  if (b.stats.length === 0) return;
  let uri: string | undefined;
  let realm = "HAProxy Statistics";
  let refresh: number | string | undefined;
  let enabled = false;
  const users: Record<string, { insecure_password: string }> = {};
  for (const d of b.stats) {
    const [, kw, arg] = d.words;
    if (kw === "enable") enabled = true;
    else if (kw === "uri" && arg) uri = arg;
    else if (kw === "realm" && arg) realm = arg;
    else if (kw === "refresh" && arg && refreshOf(arg) !== undefined) refresh = refreshOf(arg);
    else if (kw === "auth" && arg?.includes(":")) users[arg.slice(0, arg.indexOf(":"))] = { insecure_password: arg.slice(arg.indexOf(":") + 1) };
    else if (kw === "admin") drop(ctx, d, "the stats page on a proxy path is read-only: actions stay on the stats section's address", at, undefined, null);
    else if (COSMETIC.has(kw)) drop(ctx, d, "tandem's stats page is not configurable that way", at, undefined, null);
    else drop(ctx, d, `stats ${kw} has no tandem equivalent`, at);
  }
  if (!enabled && uri === undefined && Object.keys(users).length === 0) return;
  const path = uri ?? HAPROXY_STATS_URI.split("?")[0];
  const rules = (b.fields.http_request as Record<string, unknown>[] | undefined) ?? [];
  if (Object.keys(users).length > 0) {
    const list = `stats-${b.name}`;
    const all = (ctx.out.data.userlists as Record<string, unknown> | undefined) ?? {};
    all[list] = { users };
    ctx.out.data.userlists = all;
    rules.push({ action: "auth", realm, if: { all: [{ path_prefix: path }, { not: { http_auth: list } }] } });
  }
  rules.push({ action: "stats", uri: path, ...(refresh !== undefined ? { refresh } : {}) });
  b.fields.http_request = rules;
  b.explicit.add("http_request");
  if (uri === undefined) ctx.notes.info(ctx.cfg.file, b.stats[0].line, `haproxy's default stats URI is ${HAPROXY_STATS_URI}; tandem matches paths, so the page is served under ${path}`, at);
}
