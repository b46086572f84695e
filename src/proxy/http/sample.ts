// Values built from request data, in haproxy's log-format syntax: `%[fetch(args),converter(args)...]`
// inside header values, set_path and replace_path (e.g. "%[src]", "%[path,regsub(^/api/,/)]").

import { TandemError } from "../../core/errors.ts";
import type { HttpMessage } from "./message.ts";
import type { RequestEnv } from "./request_env.ts";

/** A compiled value: the text for one request. */
export type Sample = (req: HttpMessage, env: RequestEnv) => string;

type Fetch = (req: HttpMessage, env: RequestEnv) => string;
type Converter = (value: string) => string;

/** haproxy's log-format variables tandem knows: client and frontend address and port, the time. */
const VARIABLES: Record<string, (req: HttpMessage, env: RequestEnv) => string> = {
  ci: (_r, env) => env.client.srcAddress,
  cp: (_r, env) => String(env.client.srcPort),
  fi: (_r, env) => env.client.dstAddress,
  fp: (_r, env) => String(env.client.dstPort),
  Ts: () => String(Math.floor(Date.now() / 1000)),
  ms: () => String(Date.now() % 1000).padStart(3, "0"),
};
const VARIABLE = /^%(ci|cp|fi|fp|Ts|ms)(?![A-Za-z])/;

/** True when text holds an expression: only such values are read as formats (other `%` stay as they are). */
export function isFormat(text: string): boolean {
  return text.includes("%[") || /%(ci|cp|fi|fp|Ts|ms)(?![A-Za-z])/.test(text);
}

/** Splits at top-level commas (outside parentheses and quotes; `\,` is a comma). */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (quote) {
      if (c === quote) quote = "";
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

/** An argument as written: quotes removed, `\x` unescaped (but `\1`, a back-reference). */
function unquote(arg: string): string {
  const t = arg.trim();
  const q = t[0] === '"' || t[0] === "'" ? t[0] : "";
  const inner = q && t.endsWith(q) && t.length > 1 ? t.slice(1, -1) : t;
  return inner.replace(/\\([^0-9])/g, "$1");
}

/** `name(arg,arg)` → name and arguments. */
function call(text: string, where: string): { name: string; args: string[] } {
  const m = /^([a-z0-9_.]+)(?:\((.*)\))?$/s.exec(text.trim());
  if (!m) throw new TandemError("E_CONFIG", `${where}: "${text}" is not a sample fetch or converter`);
  return { name: m[1], args: m[2] === undefined ? [] : splitTop(m[2]).map(unquote) };
}

/** Field values split at commas (haproxy's hdr()): occurrence occ (1 = first, -1 = last). */
function pick(values: string[], occ: number): string {
  const i = occ > 0 ? occ - 1 : values.length + occ;
  return values[i] ?? "";
}

function commaValues(req: HttpMessage, lname: string): string[] {
  const out: string[] = [];
  for (const v of req.getAll(lname)) for (const part of v.split(",")) out.push(part.trim());
  return out;
}

function cookieValue(req: HttpMessage, name: string): string {
  for (const v of req.getAll("cookie")) {
    for (const part of v.split(";")) {
      const eq = part.indexOf("=");
      if (eq >= 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return "";
}

function queryParam(search: string, name: string): string {
  for (const pair of search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    if ((eq < 0 ? pair : pair.slice(0, eq)) === name) return eq < 0 ? "" : pair.slice(eq + 1);
  }
  return "";
}

const COUNTERS: Record<string, "http_req_rate" | "conn_rate" | "conn_cur" | "http_err_rate"> = {
  http_req_rate: "http_req_rate", conn_rate: "conn_rate", conn_cur: "conn_cur", http_err_rate: "http_err_rate",
};

function fetch(name: string, args: string[], where: string): Fetch {
  const arg = args[0] ?? "";
  const occ = args[1] === undefined ? -1 : Number(args[1]);
  const lname = arg.toLowerCase();
  const sc = /^sc0?_(http_req_rate|conn_rate|conn_cur|http_err_rate)$/.exec(name.replace(/^sc0_/, "sc_"));
  if (sc) {
    const counter = COUNTERS[sc[1]];
    return (_r, env) => String(env.counters?.read(counter, env.clock.now()) ?? 0);
  }
  switch (name) {
    case "src":
      return (_r, env) => env.client.srcAddress;
    case "src_port":
      return (_r, env) => String(env.client.srcPort);
    case "dst":
      return (_r, env) => env.client.dstAddress;
    case "dst_port":
      return (_r, env) => String(env.client.dstPort);
    case "method":
      return (r) => r.method;
    case "path":
      return (r) => r.path;
    case "query":
      return (r) => r.search.slice(1);
    case "url":
    case "pathq":
      return (r) => r.target;
    case "base":
      return (r) => (r.get("host") ?? "") + r.path;
    case "hdr":
    case "req.hdr":
      if (!arg) throw new TandemError("E_CONFIG", `${where}: ${name}() needs a header name`);
      return (r) => pick(commaValues(r, lname), occ);
    case "fhdr":
    case "req.fhdr":
      if (!arg) throw new TandemError("E_CONFIG", `${where}: ${name}() needs a header name`);
      return (r) => pick(r.getAll(lname), occ);
    case "cook":
    case "req.cook":
      return (r) => cookieValue(r, arg);
    case "url_param":
    case "urlp":
      return (r) => queryParam(r.search, arg);
    case "ssl_fc":
      return (r) => (r.tls !== undefined ? "1" : "0");
    case "ssl_fc_sni":
      return (r) => r.tls?.sni ?? "";
    case "str":
      return () => arg;
  }
  throw new TandemError("E_CONFIG", `${where}: the sample fetch "${name}" is not supported (src, src_port, dst, dst_port, method, path, query, url, base, hdr, fhdr, cook, url_param, ssl_fc, ssl_fc_sni, str, sc_http_req_rate...)`);
}

/** haproxy's `\1` back-references → JavaScript's `$1` (a literal `$` doubled). */
function jsReplacement(s: string): string {
  return s.replace(/\$/g, "$$$$").replace(/\\(\d)/g, "$$$1");
}

function converter(name: string, args: string[], where: string): Converter {
  switch (name) {
    case "lower":
      return (v) => v.toLowerCase();
    case "upper":
      return (v) => v.toUpperCase();
    case "url_dec":
      return (v) => {
        try {
          return decodeURIComponent(v.replace(/\+/g, " "));
        } catch {
          return v;
        }
      };
    case "base64":
      return (v) => Buffer.from(v, "latin1").toString("base64");
    case "regsub": {
      if (args.length < 2) throw new TandemError("E_CONFIG", `${where}: regsub needs a regular expression and a replacement`);
      const flags = args[2] ?? "";
      if (/[^gi]/.test(flags)) throw new TandemError("E_CONFIG", `${where}: regsub flags are g and i, not "${flags}"`);
      let re: RegExp;
      try {
        re = new RegExp(args[0], flags);
      } catch (err) {
        throw new TandemError("E_CONFIG", `${where}: invalid regular expression /${args[0]}/: ${(err as Error).message}`);
      }
      const rep = jsReplacement(args[1]);
      return (v) => v.replace(re, rep);
    }
  }
  throw new TandemError("E_CONFIG", `${where}: the converter "${name}" is not supported (lower, upper, url_dec, base64, regsub)`);
}

/** One `%[...]` expression (the text between the brackets). */
function expression(text: string, where: string): Fetch {
  const [head, ...convs] = splitTop(text);
  const f = call(head, where);
  const get = fetch(f.name, f.args, where);
  const steps = convs.map((c) => {
    const x = call(c, where);
    return converter(x.name, x.args, where);
  });
  if (steps.length === 0) return get;
  return (r, env) => {
    let v = get(r, env);
    for (const s of steps) v = s(v);
    return v;
  };
}

/** The index of the `]` closing an expression that starts at from (brackets inside parentheses or quotes do not count). */
function closing(text: string, from: number): number {
  let depth = 0;
  let quote = "";
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "]" && depth === 0) return i;
  }
  return -1;
}

/**
 * Compiles a value. Without `%[` (or a variable) it is literal text. With, `%[expr]` is evaluated
 * per request, `%ci %cp %fi %fp %Ts %ms` are haproxy's variables of the same names, and `%%` is a
 * literal `%`. Throws TandemError E_CONFIG naming `where` for what does not parse.
 */
export function compileFormat(text: string, where: string): Sample {
  if (!isFormat(text)) return () => text;
  const parts: (string | Fetch)[] = [];
  let lit = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const v = c === "%" ? VARIABLE.exec(text.slice(i)) : null;
    if (v) {
      if (lit) parts.push(lit);
      lit = "";
      parts.push(VARIABLES[v[1]]);
      i += v[0].length - 1;
    } else if (c === "%" && text[i + 1] === "%") {
      lit += "%";
      i++;
    } else if (c === "%" && text[i + 1] === "[") {
      const end = closing(text, i + 2);
      if (end < 0) throw new TandemError("E_CONFIG", `${where}: "%[" without its "]" in ${JSON.stringify(text)}`);
      if (lit) parts.push(lit);
      lit = "";
      parts.push(expression(text.slice(i + 2, end), where));
      i = end;
    } else lit += c;
  }
  if (lit) parts.push(lit);
  if (parts.length === 1 && typeof parts[0] !== "string") return parts[0];
  return (r, env) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(r, env);
    return out;
  };
}
