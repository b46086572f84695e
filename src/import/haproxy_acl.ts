// haproxy ACLs and `if`/`unless` conditions → tandem conditions (host, path, header, method, src, query).

import { isIP } from "node:net";
import type { ConditionInput } from "../proxy/http/rules_config.ts";

/** A translated ACL, or why it cannot be. */
export type AclResult = { cond: ConditionInput } | { reason: string };

/** The ACLs of one section: name → every line's result (lines with the same name are ORed). */
export type AclScope = Map<string, { results: AclResult[]; line: number }>;

/** A condition after parsing: always/never true, a condition, or why it cannot be translated. */
export type CondResult = { always: true } | { never: true } | { cond: ConditionInput } | { reason: string };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const alt = (vs: string[]) => (vs.length === 1 ? vs[0] : `(?:${vs.join("|")})`);
const ci = (re: string, on: boolean) => (on ? `(?i:${re})` : re);

interface Criterion {
  fetch: string;
  arg?: string;
  /** str, beg, end, sub, reg, dom, dir, found, ip, len, cnt, int, bool... */
  match: string;
  ignoreCase: boolean;
  values: string[];
  operator?: string;
}

/** Splits `criterion [flags] values` into its parts; returns a reason for forms not handled. */
function parseCriterion(words: string[]): Criterion | string {
  if (words.length === 0) return "the ACL has no criterion";
  const [fetchText, ...converters] = words[0].split(/,(?![^(]*\))/);
  let ignoreCase = false;
  for (const c of converters) {
    if (c === "lower") ignoreCase = true;
    else return `the converter ",${c}" has no tandem equivalent`;
  }
  const m = /^(?:req\.)?([a-z0-9_.]+?)(?:_(beg|end|sub|reg|dom|dir|len|cnt|found|ip|val))?(?:\(([^)]*)\))?$/.exec(fetchText);
  if (!m) return `"${fetchText}" is not a sample fetch tandem knows`;
  let fetch: string = m[1];
  let suffix: string | undefined = m[2];
  const arg: string | undefined = m[3];
  // Counter fetches end in _cnt/_cur/_rate themselves: not a match suffix.
  if (suffix === "cnt" && /^(sc\d?|src)_/.test(fetch)) [fetch, suffix] = [`${fetch}_cnt`, undefined];
  let match = suffix ?? (fetch === "src" ? "ip" : "str");
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === "--") {
      i++;
      break;
    }
    if (w === "-i") ignoreCase = true;
    else if (w === "-n" || w === "-u") continue;
    else if (w === "-m") match = words[++i] ?? "str";
    else if (w === "-f" || w === "-M") return `values read from a file (${w} ${words[i + 1] ?? ""}) are not imported: list the values in the ACL`;
    else break;
  }
  const rest = words.slice(i);
  const operator = /^(eq|ne|gt|ge|lt|le)$/.test(rest[0] ?? "") ? rest.shift() : undefined;
  return { fetch, arg: arg?.trim(), match, ignoreCase, values: rest, operator };
}

function stringTest(c: Criterion): { kind: "exact" | "prefix" | "regex"; values: string[] } | string {
  const v = c.values;
  if (v.length === 0 && c.match !== "found") return "the ACL has no value to compare with";
  switch (c.match) {
    case "str":
      return c.ignoreCase ? { kind: "regex", values: [`^${ci(alt(v.map(escapeRe)), true)}$`] } : { kind: "exact", values: v };
    case "beg":
      return c.ignoreCase ? { kind: "regex", values: [`^${ci(alt(v.map(escapeRe)), true)}`] } : { kind: "prefix", values: v };
    case "end":
      return { kind: "regex", values: [`${ci(alt(v.map(escapeRe)), c.ignoreCase)}$`] };
    case "sub":
      return { kind: "regex", values: [ci(alt(v.map(escapeRe)), c.ignoreCase)] };
    case "reg":
      return { kind: "regex", values: [ci(alt(v.map((x) => (v.length > 1 ? `(?:${x})` : x))), c.ignoreCase)] };
    case "dom":
      return { kind: "regex", values: [`(?:^|[./?#:])${ci(alt(v.map(escapeRe)), c.ignoreCase)}(?:[./?#:]|$)`] };
    case "dir":
      return { kind: "regex", values: [`(?:^|/)${ci(alt(v.map(escapeRe)), c.ignoreCase)}(?:/|$)`] };
    default:
      return `matching with "-m ${c.match}" has no tandem equivalent`;
  }
}

/** The stick counters tandem keeps, by haproxy fetch suffix. */
const COUNTER_FETCH: Record<string, string> = { http_req_rate: "http_req_rate", conn_rate: "conn_rate", conn_cur: "conn_cur", http_err_rate: "http_err_rate" };

/**
 * `sc_http_req_rate(0) gt 10`, `sc0_conn_cur ge 5`, `src_http_err_rate gt 2` → a counter
 * condition (the frontend's counters: track the client address, so sc0 and src agree). Other
 * counters (gpc, cnt, bytes) and other trackers (sc1, sc2) have no equivalent.
 */
function counterCriterion(c: Criterion): AclResult | undefined {
  const m = /^(sc(\d)?|src)_(.+)$/.exec(c.fetch);
  if (!m) return undefined;
  const [, kind, digit, name] = m;
  const counter = COUNTER_FETCH[name];
  if (!counter) return { reason: `the counter ${name} is not kept by tandem (http_req_rate, conn_rate, conn_cur, http_err_rate are)` };
  const index = kind === "sc" ? c.arg?.split(",")[0] : digit;
  if (kind !== "src" && index !== undefined && index !== "0") return { reason: `only the first tracked counter (sc0) has an equivalent; sc${index} has none` };
  if (kind === "src" && c.arg) return { reason: `${c.fetch}(${c.arg}) reads another table: tandem keeps the counters of the section's own table` };
  if (kind === "sc" && c.arg?.includes(",")) return { reason: `${c.fetch}(${c.arg}) reads another table: tandem keeps the counters of the section's own table` };
  const n = Number(c.values[0]);
  if (c.values.length !== 1 || !Number.isFinite(n)) return { reason: `${c.fetch} compares with one number` };
  const op = c.operator ?? "eq";
  if (op === "ne") return { cond: { not: { counter, eq: n } } };
  return { cond: { counter, [op]: n } };
}

/** Translates one ACL body (the words after `acl <name>`, or inside `{ }`). */
export function translateCriterion(words: string[]): AclResult {
  const c = parseCriterion(words);
  if (typeof c === "string") return { reason: c };
  const counter = counterCriterion(c);
  if (counter) return counter;
  switch (c.fetch) {
    case "src": {
      if (c.match !== "ip") return { reason: `src with "-m ${c.match}" has no tandem equivalent` };
      const bad = c.values.find((v) => isIP(v.split("/")[0]) === 0);
      if (bad !== undefined || c.values.length === 0) return { reason: bad ? `"${bad}" is not an address or network` : "src needs at least one network" };
      return { cond: { src: c.values.length === 1 ? c.values[0] : c.values } };
    }
    case "method":
      if (c.match !== "str" || c.values.length === 0) return { reason: "method compares exact names only" };
      return { cond: { method: c.values.map((v) => v.toUpperCase()) } };
    case "http_auth":
    case "http_auth_group": {
      if (!c.arg) return { reason: `${c.fetch} needs a userlist` };
      if (c.fetch === "http_auth") return c.values.length ? { reason: "http_auth takes no value" } : { cond: { http_auth: c.arg } };
      if (c.values.length === 0) return { reason: "http_auth_group needs at least one group" };
      return { cond: { http_auth: c.arg, groups: c.values } };
    }
    case "hdr":
    case "fhdr": {
      if (!c.arg) return { reason: "a header test without a header name has no tandem equivalent" };
      if (c.arg.includes(",")) return { reason: "a header occurrence (hdr(name,occ)) has no tandem equivalent" };
      const name = c.arg.toLowerCase();
      if (c.match === "found") return { cond: { header: name, exists: true } };
      if (c.match === "cnt") {
        const n = Number(c.values[0]);
        if ((c.operator === "gt" && n === 0) || (c.operator === "ge" && n === 1)) return { cond: { header: name, exists: true } };
        if (c.operator === "eq" && n === 0) return { cond: { header: name, exists: false } };
        return { reason: "header counts other than present/absent have no tandem equivalent" };
      }
      // haproxy compares the whole value (port included), case-sensitively unless -i.
      if (c.match === "str" && c.values.length > 0) return { cond: { header: name, equals: c.values.length === 1 ? c.values[0] : c.values, ...(c.ignoreCase ? { ignore_case: true } : {}) } };
      const t = stringTest(c);
      if (typeof t === "string") return { reason: t };
      if (t.kind === "prefix") return { cond: { header: name, regex: `^${alt(t.values.map(escapeRe))}` } };
      return { cond: { header: name, regex: t.values[0] } };
    }
    case "path": {
      const t = stringTest(c);
      if (typeof t === "string") return { reason: t };
      if (t.kind === "exact") return { cond: { path: t.values.length === 1 ? t.values[0] : t.values } };
      if (t.kind === "prefix") return { cond: { path_prefix: t.values.length === 1 ? t.values[0] : t.values } };
      return { cond: { path_regex: t.values[0] } };
    }
    case "url":
      if (c.match === "beg" && !c.ignoreCase && c.values.every((v) => v.startsWith("/") && !v.includes("?"))) {
        return { cond: { path_prefix: c.values.length === 1 ? c.values[0] : c.values } };
      }
      return { reason: "url tests other than a path prefix have no tandem equivalent (use path)" };
    case "urlp":
    case "url_param": {
      if (!c.arg) return { reason: "url_param needs a parameter name" };
      if (c.match === "found") return { cond: { query: c.arg, exists: true } };
      if (c.match !== "str" || c.ignoreCase || c.values.length === 0) return { reason: "query parameters compare exact values only" };
      const tests = c.values.map((v) => ({ query: c.arg!, equals: v }));
      return { cond: tests.length === 1 ? tests[0] : { any: tests } };
    }
    case "ssl_fc":
      // The connection is TLS (tandem terminates it on tls: binds).
      if (c.values.length === 0 || (c.match === "bool" && c.values.length === 0)) return { cond: { tls: true } };
      return { reason: "ssl_fc compares with nothing (it is true on TLS connections)" };
    case "ssl_fc_sni": {
      if (c.match === "str" && !c.ignoreCase && c.values.length > 0) return { cond: { sni: c.values.map((v) => v.toLowerCase()) } };
      if (c.match === "end" && c.values.every((v) => v.startsWith("."))) return { cond: { sni: c.values.map((v) => `*${v.toLowerCase()}`) } };
      return { reason: "ssl_fc_sni compares exact names (or \".suffix\" with -m end) only" };
    }
    default:
      return { reason: `"${words[0]}" has no tandem equivalent (tandem tests host, path, header, method, src, query, ssl_fc and ssl_fc_sni)` };
  }
}

/** haproxy's predefined ACLs that translate. */
function predefined(name: string): CondResult | undefined {
  if (name === "TRUE") return { always: true };
  if (name === "FALSE") return { never: true };
  if (name === "LOCALHOST") return { cond: { src: "127.0.0.1/8" } };
  const meth = /^METH_(CONNECT|DELETE|GET|HEAD|OPTIONS|POST|PUT|TRACE)$/.exec(name);
  if (meth) return { cond: { method: meth[1] === "GET" ? ["GET", "HEAD"] : [meth[1]] } };
  if (name === "HTTP_URL_SLASH") return { cond: { path_prefix: "/" } };
  if (/^(HTTP|HTTP_1\.0|HTTP_1\.1|HTTP_CONTENT|HTTP_URL_ABS|HTTP_URL_STAR|REQ_CONTENT|WAIT_END|RDP_COOKIE)$/.test(name)) {
    return { reason: `the predefined ACL ${name} has no tandem equivalent` };
  }
  return undefined;
}

type Term = CondResult;

function negate(t: Term): Term {
  if ("always" in t) return { never: true };
  if ("never" in t) return { always: true };
  if ("reason" in t) return t;
  const c = t.cond;
  if (typeof c === "string") return { cond: c.startsWith("!") ? c.slice(1) : `!${c}` };
  if (typeof c === "object" && c !== null && "not" in c && Object.keys(c).length === 1) return { cond: (c as { not: ConditionInput }).not };
  return { cond: { not: c } };
}

function combine(terms: Term[], op: "all" | "any"): Term {
  const absorbing = op === "all" ? "never" : "always";
  const neutral = op === "all" ? "always" : "never";
  const failed = terms.find((t) => "reason" in t);
  if (terms.some((t) => absorbing in t)) return absorbing === "never" ? { never: true } : { always: true };
  if (failed) return failed;
  const conds = terms.filter((t) => !(neutral in t)).map((t) => (t as { cond: ConditionInput }).cond);
  if (conds.length === 0) return neutral === "always" ? { always: true } : { never: true };
  return { cond: conds.length === 1 ? conds[0] : op === "all" ? { all: conds } : { any: conds } };
}

/**
 * Translates `if <cond>` / `unless <cond>` (words starting with if/unless). Named ACLs come from
 * scope; named: true keeps them as names (frontends, where acls: is written), false inlines their
 * definition (backends, which have no acls:). Anonymous `{ ... }` ACLs are always inlined.
 */
export function translateCondition(words: string[], scope: AclScope, named: boolean): CondResult {
  const [kw, ...rest] = words;
  if (kw !== "if" && kw !== "unless") return { reason: `expected "if" or "unless", got "${kw}"` };
  if (rest.length === 0) return { reason: `"${kw}" without a condition` };
  const groups: Term[][] = [[]];
  for (let i = 0; i < rest.length; i++) {
    let w = rest[i];
    if (w === "||" || w === "or") {
      groups.push([]);
      continue;
    }
    let neg = false;
    while (w.startsWith("!")) {
      neg = !neg;
      w = w.slice(1);
      if (w === "") w = rest[++i] ?? "";
    }
    let term: Term;
    if (w === "{") {
      const close = rest.indexOf("}", i + 1);
      if (close < 0) return { reason: "an anonymous ACL is not closed with }" };
      const r = translateCriterion(rest.slice(i + 1, close));
      term = "cond" in r ? { cond: r.cond } : { reason: r.reason };
      i = close;
    } else if (scope.has(w)) {
      const acl = scope.get(w)!;
      const failed = acl.results.find((r) => "reason" in r) as { reason: string } | undefined;
      if (failed) term = { reason: `ACL "${w}" is not translated: ${failed.reason}` };
      else if (named) term = { cond: w };
      else term = combine(acl.results.map((r) => ({ cond: (r as { cond: ConditionInput }).cond })), "any");
    } else {
      term = predefined(w) ?? { reason: `ACL "${w}" is not defined in this section` };
    }
    groups[groups.length - 1].push(neg ? negate(term) : term);
  }
  const result = combine(groups.map((g) => combine(g, "all")), "any");
  return kw === "unless" ? negate(result) : result;
}

/** The ACL condition to write under acls: (one line → its condition, several → any of them). */
export function aclDefinition(results: AclResult[]): ConditionInput | undefined {
  if (results.some((r) => "reason" in r)) return undefined;
  const conds = results.map((r) => (r as { cond: ConditionInput }).cond);
  return conds.length === 1 ? conds[0] : { any: conds };
}
