// Cookie persistence (haproxy `cookie NAME insert|prefix|rewrite`): the request's cookie names a
// server, the response carries the cookie that brings the client back to it.

import type { Backend } from "../backend.ts";
import type { CookieConfig } from "../config_types.ts";
import type { Server } from "../server.ts";
import type { HttpMessage } from "./message.ts";

/** What the request said: the server its cookie names (if any) and the value it carried. */
export interface Persistence {
  server: Server | undefined;
  /** The server cookie value the client sent (prefix mode: the part before "~"). */
  value: string | undefined;
}

/** A cookie-pair of a Cookie field (RFC 6265 §4.2.1), with where it is in the field. */
interface Pair {
  name: string;
  value: string;
}

function pairs(field: string): Pair[] {
  const out: Pair[] = [];
  for (const part of field.split(";")) {
    const t = part.trim();
    if (t === "") continue;
    const eq = t.indexOf("=");
    out.push(eq < 0 ? { name: t, value: "" } : { name: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim() });
  }
  return out;
}

const join = (ps: Pair[]) => ps.map((p) => (p.value === "" && !p.name.includes("=") ? `${p.name}=` : `${p.name}=${p.value}`)).join("; ");

/**
 * Reads the backend's persistence cookie from the request and edits the request as haproxy does:
 * `insert` + `indirect` takes the cookie out (whatever its value), `prefix` strips "server~".
 * Returns undefined when the backend has no cookie persistence.
 */
export function requestPersistence(req: HttpMessage, backend: Backend): Persistence | undefined {
  const cfg = backend.config.cookie;
  if (cfg === undefined) return undefined;
  let value: string | undefined;
  for (let i = 0; i < req.lower.length; i++) {
    if (req.lower[i] !== "cookie") continue;
    const ps = pairs(req.values[i]);
    const at = ps.findIndex((p) => p.name === cfg.name);
    if (at < 0) continue;
    const own = ps[at];
    if (value === undefined) value = cfg.mode === "prefix" ? (own.value.includes("~") ? own.value.slice(0, own.value.indexOf("~")) : undefined) : own.value;
    if (cfg.mode === "insert" && cfg.indirect) ps.splice(at, 1);
    else if (cfg.mode === "prefix" && own.value.includes("~")) own.value = own.value.slice(own.value.indexOf("~") + 1);
    else continue;
    if (ps.length === 0) req.removeAt(i--);
    else req.setValue(i, join(ps));
  }
  return { server: value === undefined ? undefined : serverByCookie(backend, value), value };
}

function serverByCookie(backend: Backend, value: string): Server | undefined {
  for (const s of backend.servers.values()) if (s.config.cookie === value) return s;
  return undefined;
}

/**
 * haproxy's idea of a cacheable response (http_check_response_for_cacheability): a status caches
 * may keep, with explicit freshness (public, max-age, s-maxage, Expires, Last-Modified) and
 * nothing that forbids it (private, no-cache, no-store, max-age=0).
 */
function cacheable(res: HttpMessage): boolean {
  if (![200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501].includes(res.status)) return false;
  let fresh = res.indexOf("expires") >= 0 || res.indexOf("last-modified") >= 0;
  for (const v of res.getAll("cache-control")) {
    for (const d of v.toLowerCase().split(",").map((x) => x.trim())) {
      if (d === "private" || d === "no-cache" || d === "no-store" || /^(s-)?max-age=0+$/.test(d) || d.startsWith("no-cache=")) return false;
      if (d === "public" || /^(s-)?max-age=\d+$/.test(d)) fresh = true;
    }
  }
  return fresh;
}

/** Rewrites the value of Set-Cookie fields named cfg.name; remove: drop them instead. */
function serverCookies(res: HttpMessage, name: string, edit: (value: string) => string | undefined): void {
  for (let i = 0; i < res.lower.length; i++) {
    if (res.lower[i] !== "set-cookie") continue;
    const v = res.values[i];
    const eq = v.indexOf("=");
    if (eq < 0 || v.slice(0, eq).trim() !== name) continue;
    const semi = v.indexOf(";", eq);
    const old = semi < 0 ? v.slice(eq + 1) : v.slice(eq + 1, semi);
    const next = edit(old.trim());
    if (next === undefined) res.removeAt(i--);
    else res.setValue(i, `${v.slice(0, eq)}=${next}${semi < 0 ? "" : v.slice(semi)}`);
  }
}

/**
 * The response side, for the server that answered: insert adds `Set-Cookie: NAME=value; path=/`
 * when the client did not already send this server's value (postonly: POST only; nocache adds
 * `Cache-control: private` to a cacheable response), and takes out a cookie of that name the
 * server set itself unless `preserve`; prefix prepends "value~" to the server's cookie; rewrite
 * replaces its value.
 */
export function responsePersistence(res: HttpMessage, req: HttpMessage, cfg: CookieConfig, server: Server, p: Persistence | undefined): void {
  const own = server.config.cookie;
  if (own === undefined && cfg.mode !== "insert") return;
  if (cfg.mode === "prefix") return serverCookies(res, cfg.name, (v) => `${own}~${v}`);
  if (cfg.mode === "rewrite") return serverCookies(res, cfg.name, () => own!);
  if (!cfg.preserve) serverCookies(res, cfg.name, () => undefined);
  if ((own !== undefined && p?.value === own) || (cfg.postonly && req.method !== "POST")) return;
  // A server without a cookie value: haproxy expires the client's cookie, so it is not kept on a server.
  let cookie = own === undefined ? `${cfg.name}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/` : `${cfg.name}=${own}; path=/`;
  if (cfg.domain.length > 0) cookie += `; domain=${cfg.domain[0]}`;
  if (cfg.httponly) cookie += "; HttpOnly";
  if (cfg.secure) cookie += "; Secure";
  const mustPrivatize = cfg.nocache && cacheable(res);
  res.add("Set-Cookie", cookie);
  if (mustPrivatize) res.add("Cache-control", "private");
}
