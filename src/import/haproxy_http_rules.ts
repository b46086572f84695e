// haproxy http-request / http-response rules (and the 1.x reqadd/rspadd/redirect/block) → tandem rules.

import type { AclScope } from "./haproxy_acl.ts";
import { translateCondition } from "./haproxy_acl.ts";

/** A translated rule, a rule that never applies, or why it cannot be translated. */
export type RuleResult = { rule: Record<string, unknown> } | { never: true } | { reason: string };

const LOG_FORMAT = /%\[|%\{|%[A-Za-z]{2}/;

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

function literal(value: string | undefined, what: string): string | Fail {
  if (value === undefined) return new Fail(`${what} is missing`);
  if (LOG_FORMAT.test(value)) return new Fail(`"${value}" is a log-format expression; tandem writes header values literally`);
  return value;
}

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
        rule = { action: "replace_header", name: args[0], match: args[1], replace: jsReplacement(r) };
        break;
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
      case "allow":
        return { reason: "allow stops rule processing; tandem has no such action (remove the deny it guards against instead)" };
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
