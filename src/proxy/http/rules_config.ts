// Config of mode http's conditions and rules: their YAML schema and how they resolve (ACL names
// checked, regular expressions compiled once to report them at --check).

import { z } from "zod";
import type { Diagnostics, Path } from "../../config/diagnostics.ts";
import { cidr, int, stringList } from "../../config/schema_types.ts";
import { didYouMean } from "../../config/suggest.ts";
import type { Cidr } from "../../core/address.ts";
import type { Condition, HttpRequestAction, HttpResponseAction } from "../config_types.ts";

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
    obj({ header: z.string(), exists: z.boolean().optional(), equals: z.string().optional(), regex: z.string().optional() }),
    obj({ method: stringList }),
    obj({ src: z.union([cidr, z.array(cidr)]) }),
    obj({ query: z.string(), exists: z.boolean().optional(), equals: z.string().optional() }),
    obj({ tls: z.boolean() }),
    obj({ sni: stringList }),
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
]);

export const httpResponseRuleSchema = z.union([
  obj({ action: z.enum(["set_header", "add_header"]), ...headerValue, ...when }),
  obj({ action: z.literal("del_header"), name: z.string(), ...when }),
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

/** Resolves a condition written in YAML; ACL names are checked against acls. */
export function condition(c: ConditionInput, acls: ReadonlySet<string>, path: Path, diag: Diagnostics): Condition {
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
    checkRegex(String(o.path_regex), [...path, "path_regex"], diag);
    return { path: [String(o.path_regex)], match: "regex" };
  }
  if ("header" in o) {
    if (o.regex !== undefined) checkRegex(String(o.regex), [...path, "regex"], diag);
    return { header: String(o.header).toLowerCase(), exists: o.exists as boolean | undefined, equals: o.equals as string | undefined, regex: o.regex as string | undefined };
  }
  if ("method" in o) return { method: list(o.method).map((m) => m.toUpperCase()) };
  if ("src" in o) return { src: (Array.isArray(o.src) ? o.src : [o.src]) as Cidr[] };
  if ("tls" in o) return { tls: o.tls === true };
  if ("sni" in o) return { sni: (Array.isArray(o.sni) ? o.sni : [o.sni]).map((h) => String(h).toLowerCase()) };
  return { query: String(o.query), exists: o.exists as boolean | undefined, equals: o.equals as string | undefined };
}

/** Resolves http_request rules: conditions, the defaults of deny/redirect/return. */
export function requestRules(rules: RequestRuleInput[] | undefined, acls: ReadonlySet<string>, path: Path, diag: Diagnostics): HttpRequestAction[] {
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

/** Resolves http_response rules (frontend or backend). */
export function responseRules(rules: ResponseRuleInput[] | undefined, acls: ReadonlySet<string>, path: Path, diag: Diagnostics): HttpResponseAction[] {
  return (rules ?? []).map((r, i) => ({ ...r, if: r.if === undefined ? undefined : condition(r.if, acls, [...path, i, "if"], diag) }) as HttpResponseAction);
}
