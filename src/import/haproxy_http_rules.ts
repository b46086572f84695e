// haproxy http-request / http-response rules (and the 1.x reqadd/rspadd/redirect/block) → tandem rules.

import type { AclScope } from "./haproxy_acl.ts";
import { translateCondition } from "./haproxy_acl.ts";
import { compileFormat } from "../proxy/http/sample.ts";
import { ENV_REF } from "./haproxy_cfg.ts";

/**
 * A translated rule, a rule that never applies, why it cannot be translated, or the tracking of
 * the client address (`track-sc0 src`: the frontend's counters, not a rule).
 */
export type RuleResult = { rule: Record<string, unknown> } | { never: true } | { reason: string } | { track: { table?: string } };

/** haproxy log-format variables other than %[...] expressions (%ci, %{+Q}...): tandem has only %[...]. */
const LOG_VARIABLE = /%\{|%[A-Za-z]{1,3}(?![[A-Za-z])/;

/** Why a rule cannot be translated (a class, so a rule's own `reason` field is never mistaken for it). */
class Fail {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}
type Built = Record<string, unknown> | Fail;

/** Splits words into the action part and the `if`/`unless` condition part. */
function splitCondition(words: string[]): { action: string[]; cond?: string[] } {
  const i = words.findIndex((w) => w === "if" || w === "unless");
  return i < 0 ? { action: words } : { action: words.slice(0, i), cond: words.slice(i) };
}

/** Adds the condition to rule, or returns why the rule cannot carry it. */
function withCondition(rule: Record<string, unknown>, cond: string[] | undefined, scope: AclScope, named: boolean): RuleResult {
  if (!cond) return { rule };
  const c = translateCondition(cond, scope, named);
  if ("reason" in c) return { reason: c.reason };
  if ("never" in c) return { never: true };
  if ("cond" in c) rule.if = c.cond;
  return { rule };
}

/**
 * A log-format value: literal text, or %[fetch,converter] expressions tandem evaluates the same
 * way (proxy/http/sample.ts). Other log-format variables (%ci, %[var(...)]) cannot be carried.
 */
function literal(value: string | undefined, what: string): string | Fail {
  if (value === undefined) return new Fail(`${what} is missing`);
  const text = value.replace(/%%/g, "");
  if (LOG_VARIABLE.test(text.replace(/%\[[^\]]*\]/g, "").replace(/%(ci|cp|fi|fp|Ts|ms)(?![A-Za-z])/g, ""))) return new Fail(`"${value}" uses log-format variables tandem does not have (it has %[fetch,converter], %ci %cp %fi %fp %Ts %ms)`);
  if (value.includes("%")) {
    try {
      compileFormat(value.replace(ENV_REF, "x"), what);
    } catch (err) {
      return new Fail((err as Error).message.replace(/^[^:]*: /, ""));
    }
  }
  return value;
}

/**
 * haproxy's replace-header/replace-path replace the whole value with the expanded replacement
 * when the regex matches anywhere; tandem's replace_header replaces the match: this regex matches
 * the whole value around the first match, with the same groups.
 */
export const wholeValue = (re: string) => `^[\\s\\S]*?(?:${re})[\\s\\S]*$`;

/** Header set/add/del, shared by requests and responses. */
function headerRule(action: string[]): Built | undefined {
  const [kw, name, value] = action;
  if (kw === "set-header" || kw === "add-header") {
    if (!name) return new Fail("the header name is missing");
    const v = literal(value, "the header value");
    if (v instanceof Fail) return v;
    if (action.length > 3) return new Fail("the value has more than one word: quote it");
    return { action: kw === "set-header" ? "set_header" : "add_header", name, value: v };
  }
  if (kw === "del-header") {
    if (!name) return new Fail("the header name is missing");
    if (action.length > 2) return new Fail("del-header with a match method (-m) has no tandem equivalent");
    return { action: "del_header", name };
  }
  return undefined;
}

/** haproxy's `\1` back-references → JavaScript's `$1`. */
const jsReplacement = (s: string) => s.replace(/\$/g, "$$$$").replace(/\\(\d)/g, "$$$1");

function redirect(action: string[]): Built {
  const [kind, target, ...opts] = action;
  if (kind !== "location" && kind !== "prefix" && kind !== "scheme") return new Fail(`redirect ${kind ?? ""} is not a redirect type (location, prefix or scheme)`);
  const t = literal(target, `the redirect ${kind}`);
  if (t instanceof Fail) return t;
  const rule: Record<string, unknown> = { action: "redirect", [kind]: t };
  for (let i = 0; i < opts.length; i++) {
    if (opts[i] === "code" && /^(301|302|303|307|308)$/.test(opts[i + 1] ?? "")) rule.code = Number(opts[++i]);
    else if (opts[i] === "append-slash" && kind !== "location") rule.append_slash = true;
    else if (opts[i] === "drop-query" && kind !== "location") rule.drop_query = true;
    else return new Fail(`the redirect option "${opts[i]}" has no tandem equivalent`);
  }
  return rule;
}

function deny(opts: string[]): Built {
  const rule: Record<string, unknown> = { action: "deny" };
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    if ((o === "deny_status" || o === "status") && /^\d{3}$/.test(opts[i + 1] ?? "")) rule.status = Number(opts[++i]);
    else if (o === "string") rule.body = opts[++i];
    else if (o === "content-type") i++;
    else return new Fail(`the deny option "${o}" has no tandem equivalent`);
  }
  return rule;
}

function returnRule(opts: string[]): Built {
  const rule: Record<string, unknown> = { action: "return" };
  const headers: Record<string, string> = {};
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    if (o === "status" && /^\d{3}$/.test(opts[i + 1] ?? "")) rule.status = Number(opts[++i]);
    else if (o === "content-type") rule.content_type = opts[++i];
    else if (o === "string") rule.body = opts[++i];
    else if (o === "hdr" && opts[i + 2] !== undefined) {
      const v = literal(opts[i + 2], "the header value");
      if (v instanceof Fail) return v;
      headers[opts[i + 1]] = v;
      i += 2;
    } else if (o === "default-errorfiles") continue;
    else return new Fail(`the return option "${o}" has no tandem equivalent (files and log-format bodies are not imported)`);
  }
  if (Object.keys(headers).length > 0) rule.headers = headers;
  return rule;
}

/** Translates `http-request <action> ... [if|unless cond]`. */
export function translateHttpRequest(words: string[], scope: AclScope, named: boolean): RuleResult {
  const { action, cond } = splitCondition(words.slice(1));
  const [kw, ...args] = action;
  let rule: Built | undefined = headerRule(action);
  if (!rule) {
    switch (kw) {
      case "replace-header": {
        if (args.length !== 3) return { reason: "replace-header needs a name, a regex and a replacement" };
        const r = literal(args[2], "the replacement");
        if (r instanceof Fail) return { reason: r.why };
        if (r.includes("%[")) return { reason: "a replacement with %[...] expressions has no tandem equivalent in replace-header" };
        rule = { action: "replace_header", name: args[0], match: wholeValue(args[1]), replace: jsReplacement(r) };
        break;
      }
      case "replace-path": {
        if (args.length !== 2) return { reason: "replace-path needs a regex and a replacement" };
        const r = literal(args[1], "the replacement");
        if (r instanceof Fail) return { reason: r.why };
        rule = { action: "replace_path", match: args[0], replace: r };
        break;
      }
      case "allow":
        rule = args.length ? new Fail(`allow takes no option ("${args[0]}")`) : { action: "allow" };
        break;
      case "auth":
        if (args.length === 0) rule = { action: "auth" };
        else if (args[0] === "realm" && args.length === 2) rule = { action: "auth", realm: args[1] };
        else rule = new Fail("auth takes realm <realm> only");
        break;
      case "tarpit": {
        const d = deny(args);
        rule = d instanceof Fail ? d : d.body !== undefined ? new Fail("a tarpit body has no tandem equivalent") : { action: "tarpit", ...(d.status !== undefined ? { status: d.status } : {}) };
        break;
      }
      case "track-sc0":
      case "track-sc1":
      case "track-sc2": {
        if (kw !== "track-sc0") return { reason: `${kw}: tandem keeps one tracked counter (sc0), per client address` };
        if (args[0] !== "src") return { reason: `tracking "${args[0]}": tandem tracks the client address (src) only` };
        if (args.length !== 1 && !(args[1] === "table" && args.length === 3)) return { reason: "track-sc0 src [table NAME] only" };
        if (cond) return { reason: "conditional tracking: tandem tracks every request of a frontend with counters:" };
        return { track: { table: args[2] } };
      }
      case "deny":
        rule = deny(args);
        break;
      case "redirect":
        rule = redirect(args);
        break;
      case "return":
        rule = returnRule(args);
        break;
      case "set-path": {
        const v = literal(args[0], "the path");
        rule = typeof v === "string" ? { action: "set_path", value: v } : v;
        break;
      }
      default:
        return { reason: `the action "${kw}" has no tandem equivalent` };
    }
  }
  if (rule instanceof Fail) return { reason: rule.why };
  return withCondition(rule, cond, scope, named);
}

/** Translates `http-response <action> ... [if|unless cond]`. */
export function translateHttpResponse(words: string[], scope: AclScope, named: boolean): RuleResult {
  const { action, cond } = splitCondition(words.slice(1));
  const [kw, ...args] = action;
  let rule = headerRule(action);
  if (!rule && kw === "replace-header") {
    if (args.length !== 3) return { reason: "replace-header needs a name, a regex and a replacement" };
    const r = literal(args[2], "the replacement");
    if (r instanceof Fail) return { reason: r.why };
    if (r.includes("%[")) return { reason: "a replacement with %[...] expressions has no tandem equivalent in replace-header" };
    rule = { action: "replace_header", name: args[0], match: wholeValue(args[1]), replace: jsReplacement(r) };
  }
  if (!rule && kw === "set-status") {
    const status = Number(args[0]);
    if (!Number.isInteger(status) || status < 100 || status > 599) return { reason: `"${args[0]}" is not an HTTP status` };
    const r: Record<string, unknown> = { action: "set_status", status };
    if (args[1] === "reason" && args[2] !== undefined) r.reason = args[2];
    else if (args.length > 1) return { reason: `set-status option "${args[1]}" has no tandem equivalent` };
    rule = r;
  }
  if (!rule) return { reason: `the action "${kw}" has no tandem equivalent` };
  if (rule instanceof Fail) return { reason: rule.why };
  return withCondition(rule, cond, scope, named);
}

/**
 * Translates haproxy 1.x rules: reqadd/rspadd "Name: value", reqdel/reqidel/rspdel/rspidel "^Name:",
 * redirect, block. Returns which side the rule belongs to (undefined: not a legacy rule).
 */
export function translateLegacyRule(words: string[], scope: AclScope, named: boolean): { side: "request" | "response"; result: RuleResult } | undefined {
  const { action, cond } = splitCondition(words);
  const [kw, arg] = action;
  const side = kw.startsWith("rsp") ? "response" : "request";
  if (kw === "reqadd" || kw === "rspadd") {
    const m = /^([^:\s]+):\s*(.*)$/.exec(arg ?? "");
    if (!m) return { side, result: { reason: `"${arg}" is not "Name: value"` } };
    const v = literal(m[2], "the header value");
    if (v instanceof Fail) return { side, result: { reason: v.why } };
    return { side, result: withCondition({ action: "add_header", name: m[1], value: v }, cond, scope, named) };
  }
  if (/^(req|rsp)i?del$/.test(kw)) {
    const m = /^\^?([A-Za-z0-9_-]+):?(?:\.\*)?\$?$/.exec(arg ?? "");
    if (!m) return { side, result: { reason: `the regex "${arg}" is not a plain header name (^Name:)` } };
    return { side, result: withCondition({ action: "del_header", name: m[1] }, cond, scope, named) };
  }
  if (kw === "redirect") {
    const r = redirect(action.slice(1));
    return { side, result: r instanceof Fail ? { reason: r.why } : withCondition(r, cond, scope, named) };
  }
  if (kw === "block") return { side, result: withCondition({ action: "deny", status: 403 }, cond, scope, named) };
  if (/^(req|rsp)i?(rep|deny|allow|pass|tarpit|setbe)$/.test(kw)) {
    return { side, result: { reason: `${kw} rewrites or filters whole header lines by regex; write http-${side} rules by hand` } };
  }
  return undefined;
}
