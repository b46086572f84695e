// Config of mode http's conditions and rules: their YAML schema and how they resolve (ACL names
// checked, regular expressions compiled once to report them at --check).

import { z } from "zod";
import type { Diagnostics, Path } from "../../config/diagnostics.ts";
import { cidr, duration, int, stringList } from "../../config/schema_types.ts";
import { didYouMean } from "../../config/suggest.ts";
import type { Cidr } from "../../core/address.ts";
import type { Condition, CounterName, CountersConfig, HttpRequestAction, HttpResponseAction } from "../config_types.ts";

/** The counters a `counter` condition may name, as written in YAML. */
export const COUNTER_NAMES = ["http_req_rate", "conn_rate", "conn_cur", "http_err_rate"] as const;
const OPS = ["gt", "ge", "lt", "le", "eq"] as const;

/** What a condition may refer to where it is written: ACL names, userlists, the frontend's counters. */
export interface ConditionScope {
  acls: ReadonlySet<string>;
  userlists?: ReadonlySet<string>;
  /** The frontend's counters (undefined in a frontend without counters:); backends do not check. */
  counters?: CountersConfig | "unchecked";
}

const obj = z.strictObject;

/** A routing condition: an ACL name ("is_api", "!is_api") or a test, combinable with all/any/not. */
export type ConditionInput =
  | string
  | { all: ConditionInput[] }
  | { any: ConditionInput[] }
  | { not: ConditionInput }
  | Record<string, unknown>;

export const conditionSchema: z.ZodType<ConditionInput> = z.lazy(() =>
  z.union([
    z.string(),
    obj({ all: z.array(conditionSchema) }),
    obj({ any: z.array(conditionSchema) }),
    obj({ not: conditionSchema }),
    obj({ host: stringList }),
    obj({ path: stringList }),
    obj({ path_prefix: stringList }),
    obj({ path_regex: z.string() }),
    obj({ header: z.string(), exists: z.boolean().optional(), equals: stringList.optional(), regex: z.string().optional(), ignore_case: z.boolean().optional() }),
    obj({ method: stringList }),
    obj({ src: z.union([cidr, z.array(cidr)]) }),
    obj({ query: z.string(), exists: z.boolean().optional(), equals: z.string().optional() }),
    obj({ tls: z.boolean() }),
    obj({ sni: stringList }),
    obj({ http_auth: z.string(), groups: stringList.optional() }),
    obj({ counter: z.enum(COUNTER_NAMES), gt: z.number().optional(), ge: z.number().optional(), lt: z.number().optional(), le: z.number().optional(), eq: z.number().optional() }),
  ])
);

const when = { if: conditionSchema.optional() };
const headerValue = { name: z.string(), value: z.string() };

export const httpRequestRuleSchema = z.union([
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
    append_slash: z.boolean().optional(),
    drop_query: z.boolean().optional(),
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
  obj({ action: z.literal("replace_path"), match: z.string(), replace: z.string(), ...when }),
  obj({ action: z.literal("allow"), ...when }),
  obj({ action: z.literal("auth"), realm: z.string().optional(), ...when }),
  obj({ action: z.literal("tarpit"), status: int(200, 599).optional(), ...when }),
  obj({ action: z.literal("stats"), uri: z.string().optional(), refresh: duration.optional(), ...when }),
]);

export const httpResponseRuleSchema = z.union([
  obj({ action: z.enum(["set_header", "add_header"]), ...headerValue, ...when }),
  obj({ action: z.literal("del_header"), name: z.string(), ...when }),
  obj({ action: z.literal("replace_header"), name: z.string(), match: z.string(), replace: z.string(), ...when }),
  obj({ action: z.literal("set_status"), status: int(100, 599), reason: z.string().optional(), ...when }),
]);

type RequestRuleInput = z.output<typeof httpRequestRuleSchema>;
type ResponseRuleInput = z.output<typeof httpResponseRuleSchema>;

function checkRegex(source: string, path: Path, diag: Diagnostics): void {
  try {
    new RegExp(source);
  } catch (err) {
    diag.error(path, `invalid regular expression: ${(err as Error).message}`);
  }
}

/** Resolves a condition written in YAML; ACL, userlist and counter names are checked against scope. */
export function condition(c: ConditionInput, scope: ConditionScope, path: Path, diag: Diagnostics): Condition {
  const acls = scope.acls;
  if (typeof c === "string") {
    const neg = c.startsWith("!");
    const name = c.replace(/^!\s*/, "");
    if (!acls.has(name)) diag.error(path, `unknown ACL "${name}"`, didYouMean(name, acls) ?? (acls.size ? `defined ACLs: ${[...acls].join(", ")}` : "define it under acls:"));
    return neg ? { not: { acl: name } } : { acl: name };
  }
  const o = c as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : [String(v)]);
  if ("all" in o) return { all: (o.all as ConditionInput[]).map((x, i) => condition(x, scope, [...path, "all", i], diag)) };
  if ("any" in o) return { any: (o.any as ConditionInput[]).map((x, i) => condition(x, scope, [...path, "any", i], diag)) };
  if ("not" in o) return { not: condition(o.not as ConditionInput, scope, [...path, "not"], diag) };
  if ("host" in o) return { host: list(o.host).map((h) => h.toLowerCase()) };
  if ("path" in o) return { path: list(o.path), match: "exact" };
  if ("path_prefix" in o) return { path: list(o.path_prefix), match: "prefix" };
  if ("path_regex" in o) {
    checkRegex(String(o.path_regex), [...path, "path_regex"], diag);
    return { path: [String(o.path_regex)], match: "regex" };
  }
  if ("header" in o) {
    if (o.regex !== undefined) checkRegex(String(o.regex), [...path, "regex"], diag);
    const equals = o.equals === undefined ? undefined : list(o.equals);
    return { header: String(o.header).toLowerCase(), exists: o.exists as boolean | undefined, equals, regex: o.regex as string | undefined, ...(o.ignore_case === true ? { ignoreCase: true } : {}) };
  }
  if ("method" in o) return { method: list(o.method).map((m) => m.toUpperCase()) };
  if ("src" in o) return { src: (Array.isArray(o.src) ? o.src : [o.src]) as Cidr[] };
  if ("tls" in o) return { tls: o.tls === true };
  if ("sni" in o) return { sni: (Array.isArray(o.sni) ? o.sni : [o.sni]).map((h) => String(h).toLowerCase()) };
  if ("http_auth" in o) {
    const name = String(o.http_auth);
    const known = scope.userlists ?? new Set<string>();
    if (!known.has(name)) diag.error([...path, "http_auth"], `unknown userlist "${name}"`, didYouMean(name, known) ?? (known.size ? `defined userlists: ${[...known].join(", ")}` : "define it under userlists:"));
    return o.groups === undefined ? { httpAuth: name } : { httpAuth: name, groups: list(o.groups) };
  }
  if ("counter" in o) return counterCondition(o, scope, path, diag);
  return { query: String(o.query), exists: o.exists as boolean | undefined, equals: o.equals as string | undefined };
}

const COUNTER_KEY: Record<CounterName, keyof CountersConfig> = { http_req_rate: "httpReqRate", conn_rate: "connRate", http_err_rate: "httpErrRate", conn_cur: "connCur" };

/** `{ counter: http_req_rate, gt: 10 }`: one comparison, with a counter the frontend keeps. */
function counterCondition(o: Record<string, unknown>, scope: ConditionScope, path: Path, diag: Diagnostics): Condition {
  const counter = o.counter as CounterName;
  const ops = OPS.filter((k) => o[k] !== undefined);
  if (ops.length !== 1) diag.error(path, "a counter condition needs exactly one of gt, ge, lt, le, eq", "write { counter: http_req_rate, gt: 10 }");
  const op = ops[0] ?? "gt";
  const c = scope.counters;
  if (c === undefined) diag.error([...path, "counter"], `${counter} is not kept: this frontend has no counters:`, `add counters: { ${counter}: ${counter === "conn_cur" ? "true" : "10s"} }`);
  else if (c !== "unchecked" && !c[COUNTER_KEY[counter]]) diag.error([...path, "counter"], `${counter} is not kept by this frontend's counters:`, `add ${counter}: ${counter === "conn_cur" ? "true" : "10s"} to counters:`);
  return { counter, op, value: Number(o[op] ?? 0) };
}

/** Resolves http_request rules: conditions, the defaults of deny/redirect/return/auth/tarpit/stats. owner: the auth realm's default. */
export function requestRules(rules: RequestRuleInput[] | undefined, scope: ConditionScope, path: Path, diag: Diagnostics, owner: string): HttpRequestAction[] {
  return (rules ?? []).map((r, i) => {
    const when = r.if === undefined ? undefined : condition(r.if, scope, [...path, i, "if"], diag);
    switch (r.action) {
      case "deny":
        return { action: "deny", status: r.status ?? 403, body: r.body, if: when };
      case "redirect":
        if ([r.location, r.prefix, r.scheme].filter((x) => x !== undefined).length !== 1) {
          diag.error([...path, i], "a redirect needs exactly one of location, prefix or scheme");
        }
        return { action: "redirect", location: r.location, prefix: r.prefix, scheme: r.scheme, code: r.code ?? 302, ...(r.append_slash ? { appendSlash: true } : {}), ...(r.drop_query ? { dropQuery: true } : {}), if: when };
      case "return":
        return { action: "return", status: r.status ?? 200, body: r.body, contentType: r.content_type, headers: r.headers, if: when };
      case "auth":
        // haproxy's default realm is the proxy's name.
        return { action: "auth", realm: r.realm ?? owner, if: when };
      case "tarpit":
        return { action: "tarpit", status: r.status ?? 500, if: when };
      case "stats": {
        const uri = r.uri ?? "/haproxy?stats";
        if (!uri.startsWith("/")) diag.error([...path, i, "uri"], `"${uri}" is not a path`, 'write uri: /stats');
        return { action: "stats", uri, ...(r.refresh !== undefined ? { refresh: r.refresh } : {}), if: when };
      }
      case "replace_path":
        checkRegex(r.match, [...path, i, "match"], diag);
        return { ...r, if: when };
      default:
        return { ...r, if: when } as HttpRequestAction;
    }
  });
}

/** Resolves http_response rules (frontend or backend). */
export function responseRules(rules: ResponseRuleInput[] | undefined, scope: ConditionScope, path: Path, diag: Diagnostics): HttpResponseAction[] {
  return (rules ?? []).map((r, i) => ({ ...r, if: r.if === undefined ? undefined : condition(r.if, scope, [...path, i, "if"], diag) }) as HttpResponseAction);
}
