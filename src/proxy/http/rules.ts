// http_request / http_response actions, compiled once and applied in order to each message.

import { TandemError } from "../../core/errors.ts";
import type { HttpRequestAction, HttpResponseAction } from "../config_types.ts";
import { describeCondition } from "./conditions.ts";
import type { ConditionCompiler, Predicate } from "./conditions.ts";
import type { HttpMessage } from "./message.ts";
import { TCHAR, VALUE } from "./parser.ts";
import type { RequestEnv } from "./request_env.ts";
import { defaultBody, reasonPhrase } from "./responses.ts";
import type { LocalResponse } from "./responses.ts";
import { compileFormat, isFormat } from "./sample.ts";
import type { Sample } from "./sample.ts";

/** What `allow` returns: the rest of the list is skipped and the request goes on. */
export const ALLOW = Symbol("allow");

/** One compiled rule. apply() edits the message, or returns a response that ends the request, or ALLOW. */
export interface Rule {
  /** Human-readable, for `tandem route` and debug logs: `set_header X-A if host a.example`. */
  label: string;
  when: Predicate | undefined;
  apply(m: HttpMessage, req: HttpMessage, env: RequestEnv): LocalResponse | typeof ALLOW | undefined;
}

function checkName(name: string, where: string): string {
  if (name === "" || [...name].some((c) => TCHAR[c.charCodeAt(0)] !== 1)) throw new TandemError("E_CONFIG", `${where}: "${name}" is not a valid header name`);
  return name;
}

/** A control character in a value: a configuration error, or a 500 when it came from request data. */
function badValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 255 || VALUE[c] !== 1) return true;
  }
  return false;
}

function checkValue(value: string, where: string): string {
  if (badValue(value)) throw new TandemError("E_CONFIG", `${where}: header value ${JSON.stringify(value)} contains a control character`);
  return value;
}

/** A value that may hold `%[...]` expressions (sample.ts): literal text is checked now, the rest per request. */
function valueOf(text: string, where: string): Sample {
  if (!isFormat(text)) {
    checkValue(text, where);
    return () => text;
  }
  return compileFormat(text, where);
}

/** haproxy writes back-references as \1; JavaScript's replace wants $1 (both are accepted). */
function jsReplacement(s: string): string {
  return s.replace(/\\(\d)/g, "$$$1");
}

function labelOf(a: { action: string; name?: string; if?: unknown }, extra: string): string {
  const cond = a.if ? ` if ${describeCondition(a.if as never)}` : "";
  return `${a.action}${a.name !== undefined ? " " + a.name : ""}${extra}${cond}`;
}

/** Answers made here are not to be cached (haproxy marks its own the same way). */
const NO_CACHE: [string, string] = ["Cache-Control", "no-cache"];

/** A rewrite whose result cannot go on the wire (haproxy's strict-mode answers 500 too). */
const REWRITE_FAILED: LocalResponse = { status: 500, body: defaultBody(500), contentType: "text/html" };

function headerRule(a: HttpRequestAction | HttpResponseAction, where: string): Rule["apply"] | undefined {
  switch (a.action) {
    case "set_header":
    case "add_header": {
      const name = checkName(a.name, where);
      const value = valueOf(a.value, where);
      const set = a.action === "set_header";
      return (m, req, env) => {
        const v = value(req, env);
        if (badValue(v)) return REWRITE_FAILED;
        if (set) m.set(name, v);
        else m.add(name, v);
        return undefined;
      };
    }
    case "del_header": {
      const lname = checkName(a.name, where).toLowerCase();
      return (m) => void m.delete(lname);
    }
    default:
      return undefined;
  }
}

/** A path that can be the origin-form target: starts with "/", visible ASCII, no "?" or "#". */
function validPath(p: string): boolean {
  if (!p.startsWith("/")) return false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 63 || c === 35) return false;
  }
  return true;
}

function regexOf(source: string, where: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new TandemError("E_CONFIG", `${where}: invalid regular expression /${source}/: ${(err as Error).message}`);
  }
}

/** set_path, replace_path: the path is rewritten, the query kept (haproxy's set-path / replace-path). */
function pathRule(a: Extract<HttpRequestAction, { action: "set_path" | "replace_path" }>, where: string): Rule {
  if (a.action === "set_path") {
    const value = valueOf(a.value, where);
    if (!isFormat(a.value) && !validPath(a.value)) throw new TandemError("E_CONFIG", `${where}: set_path value "${a.value}" must be a path starting with "/" (no query, no spaces)`);
    return {
      label: labelOf(a, ` ${a.value}`),
      when: undefined,
      apply: (m, req, env) => {
        const p = value(req, env);
        if (!validPath(p)) return REWRITE_FAILED;
        m.path = p;
        return undefined;
      },
    };
  }
  // haproxy replaces the whole path with the expanded replacement when the regex matches anywhere.
  const re = regexOf(a.match, where);
  const replace = valueOf(jsReplacement(a.replace), where);
  return {
    label: labelOf(a, ` /${a.match}/`),
    when: undefined,
    apply: (m, req, env) => {
      const found = re.exec(m.path);
      if (!found) return undefined;
      const p = replace(req, env).replace(/\$(\d)/g, (_, d: string) => found[Number(d)] ?? "");
      if (!validPath(p)) return REWRITE_FAILED;
      m.path = p;
      return undefined;
    },
  };
}

/** The local answers: deny, return, redirect, auth, tarpit, stats. */
function answerRule(a: HttpRequestAction, where: string): Rule["apply"] | undefined {
  switch (a.action) {
    case "deny": {
      const res: LocalResponse = { status: a.status, body: a.body ?? defaultBody(a.status), contentType: a.body !== undefined ? "text/plain" : "text/html", headers: [NO_CACHE] };
      return () => res;
    }
    case "return": {
      const headers = Object.entries(a.headers ?? {}).map(([k, v]): [string, string] => [checkName(k, where), checkValue(v, where)]);
      const res: LocalResponse = { status: a.status, body: a.body ?? "", contentType: a.contentType, headers };
      return () => res;
    }
    case "auth": {
      const realm = checkValue(a.realm.replace(/["\\]/g, "\\$&"), where);
      const res: LocalResponse = { status: 401, body: defaultBody(401), contentType: "text/html", headers: [NO_CACHE, ["WWW-Authenticate", `Basic realm="${realm}"`]] };
      return () => res;
    }
    case "tarpit": {
      const res: LocalResponse = { status: a.status, body: defaultBody(a.status), contentType: "text/html", headers: [NO_CACHE], tarpit: true };
      return () => res;
    }
    case "stats": {
      const uri = a.uri;
      const options = { refresh: a.refresh };
      const unavailable: LocalResponse = { status: 503, body: "The stats page is served by tandem's main process only.\n", contentType: "text/plain" };
      return (_m, req, env) => {
        if (!req.path.startsWith(uri)) return undefined;
        const service = env.services?.get("stats");
        return service ? service(req, uri, options) : unavailable;
      };
    }
    case "redirect": {
      const code = a.code;
      // haproxy marks temporary redirects not to be cached; permanent ones (301, 308) may be.
      const headers = (location: string): [string, string][] => (code === 301 || code === 308 ? [["Location", location]] : [NO_CACHE, ["Location", location]]);
      const make = (location: string): LocalResponse => ({ status: code, headers: headers(location) });
      if (a.location !== undefined) {
        const res = make(checkValue(a.location, where));
        return () => res;
      }
      // haproxy's append-slash and drop-query, for prefix and scheme redirects.
      const target = (m: HttpMessage) => {
        const path = a.appendSlash && !m.path.endsWith("/") ? m.path + "/" : m.path;
        return a.dropQuery ? path : path + m.search;
      };
      if (a.prefix !== undefined) {
        const prefix = checkValue(a.prefix.endsWith("/") ? a.prefix.slice(0, -1) : a.prefix, where);
        return (m) => make(prefix + target(m));
      }
      const scheme = checkValue(a.scheme ?? "https", where);
      return (m) => make(`${scheme}://${m.get("host") ?? m.host}${target(m)}`);
    }
  }
  return undefined;
}

function extraOf(a: HttpRequestAction): string {
  switch (a.action) {
    case "deny":
    case "return":
    case "tarpit":
      return ` ${a.status}`;
    case "redirect":
      return a.location !== undefined ? ` ${a.code} ${a.location}` : a.prefix !== undefined ? ` ${a.code} prefix ${a.prefix}` : ` ${a.code} scheme ${a.scheme ?? "https"}`;
    case "auth":
      return ` realm ${a.realm}`;
    case "stats":
      return ` ${a.uri}`;
    default:
      return "";
  }
}

/** replace_header (requests and responses): the first match of each field named name is replaced. */
function replaceHeader(a: { action: string; name: string; match: string; replace: string }, where: string): Rule {
  const lname = checkName(a.name, where).toLowerCase();
  const re = regexOf(a.match, where);
  const rep = jsReplacement(checkValue(a.replace, where));
  return {
    label: labelOf(a, ` /${a.match}/`),
    when: undefined,
    apply: (m) => {
      for (let k = 0; k < m.lower.length; k++) {
        if (m.lower[k] !== lname) continue;
        const v = m.values[k].replace(re, rep);
        if (badValue(v)) return REWRITE_FAILED;
        m.setValue(k, v);
      }
      return undefined;
    },
  };
}

/** Compiles http_request actions. Throws TandemError E_CONFIG for invalid names/values/regexes/expressions. */
export function compileRequestRules(actions: HttpRequestAction[], conditions: ConditionCompiler, owner: string): Rule[] {
  return actions.map((a, i) => {
    const where = `${owner} http_request[${i}]`;
    const when = a.if ? conditions.compile(a.if) : undefined;
    const edit = headerRule(a, where);
    if (edit) return { label: labelOf(a, ""), when, apply: edit };
    if (a.action === "set_path" || a.action === "replace_path") return { ...pathRule(a, where), when };
    if (a.action === "allow") return { label: labelOf(a, ""), when, apply: () => ALLOW };
    if (a.action === "replace_header") return { ...replaceHeader(a, where), when };
    const answer = answerRule(a, where);
    if (answer) return { label: labelOf(a, extraOf(a)), when, apply: answer };
    throw new TandemError("E_CONFIG", `${where}: unknown action "${(a as { action: string }).action}"`);
  });
}

/** Compiles http_response actions; their conditions are evaluated on the request. */
export function compileResponseRules(actions: HttpResponseAction[], conditions: ConditionCompiler, owner: string): Rule[] {
  return actions.map((a, i) => {
    const where = `${owner} http_response[${i}]`;
    const when = a.if ? conditions.compile(a.if) : undefined;
    const edit = headerRule(a, where);
    if (edit) return { label: labelOf(a, ""), when, apply: edit };
    if (a.action === "replace_header") return { ...replaceHeader(a, where), when };
    if (a.action === "set_status") {
      const status = a.status;
      const reason = checkValue(a.reason ?? reasonPhrase(status), where);
      return {
        label: labelOf(a, ` ${status}`),
        when,
        apply: (m) => {
          m.status = status;
          m.reason = reason;
          return undefined;
        },
      };
    }
    throw new TandemError("E_CONFIG", `${where}: unknown action "${(a as { action: string }).action}"`);
  });
}

/**
 * Applies rules in order to m (the request itself, or a response to req). Returns the first
 * local response a rule produced (the rest are skipped), else undefined; `allow` ends the list
 * with undefined. Labels of the rules that ran are appended to `fired` when given.
 */
export function applyRules(rules: Rule[], m: HttpMessage, req: HttpMessage, env: RequestEnv, fired?: string[]): LocalResponse | undefined {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.when !== undefined && !r.when(req, env)) continue;
    const res = r.apply(m, req, env);
    // A stats rule for another path does nothing: not reported as fired.
    if (res === undefined && r.label.startsWith("stats ")) continue;
    fired?.push(r.label);
    if (res === ALLOW) return undefined;
    if (res !== undefined) return res;
  }
  return undefined;
}
