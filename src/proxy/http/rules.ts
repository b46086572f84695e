// http_request / http_response actions, compiled once and applied in order to each message.

import { TandemError } from "../../core/errors.ts";
import type { HttpRequestAction, HttpResponseAction } from "../config_types.ts";
import { describeCondition } from "./conditions.ts";
import type { ConditionCompiler, Predicate } from "./conditions.ts";
import type { HttpMessage } from "./message.ts";
import { TCHAR, VALUE } from "./parser.ts";
import { defaultBody, reasonPhrase } from "./responses.ts";
import type { LocalResponse } from "./responses.ts";

/** One compiled rule. apply() edits the message or returns a response that ends the request. */
export interface Rule {
  /** Human-readable, for `tandem route` and debug logs: `set_header X-A if host a.example`. */
  label: string;
  when: Predicate | undefined;
  apply(m: HttpMessage, req: HttpMessage): LocalResponse | undefined;
}

function checkName(name: string, where: string): string {
  if (name === "" || [...name].some((c) => TCHAR[c.charCodeAt(0)] !== 1)) throw new TandemError("E_CONFIG", `${where}: "${name}" is not a valid header name`);
  return name;
}

function checkValue(value: string, where: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 255 || VALUE[c] !== 1) throw new TandemError("E_CONFIG", `${where}: header value ${JSON.stringify(value)} contains a control character`);
  }
  return value;
}

/** haproxy writes back-references as \1; JavaScript's replace wants $1 (both are accepted). */
function jsReplacement(s: string): string {
  return s.replace(/\\(\d)/g, "$$$1");
}

function labelOf(a: { action: string; name?: string; if?: unknown }, extra: string): string {
  const cond = a.if ? ` if ${describeCondition(a.if as never)}` : "";
  return `${a.action}${a.name !== undefined ? " " + a.name : ""}${extra}${cond}`;
}

function headerRule(a: HttpRequestAction | HttpResponseAction, where: string): ((m: HttpMessage) => void) | undefined {
  switch (a.action) {
    case "set_header": {
      const name = checkName(a.name, where);
      const value = checkValue(a.value, where);
      return (m) => m.set(name, value);
    }
    case "add_header": {
      const name = checkName(a.name, where);
      const value = checkValue(a.value, where);
      return (m) => m.add(name, value);
    }
    case "del_header": {
      const lname = checkName(a.name, where).toLowerCase();
      return (m) => void m.delete(lname);
    }
    default:
      return undefined;
  }
}

/** Compiles http_request actions. Throws TandemError E_CONFIG for invalid names/values/regexes. */
export function compileRequestRules(actions: HttpRequestAction[], conditions: ConditionCompiler, owner: string): Rule[] {
  return actions.map((a, i) => {
    const where = `${owner} http_request[${i}]`;
    const when = a.if ? conditions.compile(a.if) : undefined;
    const edit = headerRule(a, where);
    if (edit) return { label: labelOf(a, ""), when, apply: (m) => void edit(m) };
    switch (a.action) {
      case "replace_header": {
        const lname = checkName(a.name, where).toLowerCase();
        let re: RegExp;
        try {
          re = new RegExp(a.match);
        } catch (err) {
          throw new TandemError("E_CONFIG", `${where}: invalid regular expression /${a.match}/: ${(err as Error).message}`);
        }
        const rep = jsReplacement(checkValue(a.replace, where));
        return {
          label: labelOf(a, ` /${a.match}/`),
          when,
          apply: (m) => {
            for (let k = 0; k < m.lower.length; k++) if (m.lower[k] === lname) m.setValue(k, checkValue(m.values[k].replace(re, rep), where));
            return undefined;
          },
        };
      }
      case "deny": {
        const res: LocalResponse = { status: a.status, body: a.body ?? defaultBody(a.status), contentType: a.body !== undefined ? "text/plain" : "text/html" };
        return { label: labelOf(a, ` ${a.status}`), when, apply: () => res };
      }
      case "return": {
        const headers = Object.entries(a.headers ?? {}).map(([k, v]): [string, string] => [checkName(k, where), checkValue(v, where)]);
        const res: LocalResponse = { status: a.status, body: a.body ?? "", contentType: a.contentType, headers };
        return { label: labelOf(a, ` ${a.status}`), when, apply: () => res };
      }
      case "redirect": {
        const code = a.code;
        const make = (location: string): LocalResponse => ({ status: code, headers: [["Location", location]] });
        if (a.location !== undefined) {
          const res = make(checkValue(a.location, where));
          return { label: labelOf(a, ` ${code} ${a.location}`), when, apply: () => res };
        }
        if (a.prefix !== undefined) {
          const prefix = checkValue(a.prefix.endsWith("/") ? a.prefix.slice(0, -1) : a.prefix, where);
          return { label: labelOf(a, ` ${code} prefix ${a.prefix}`), when, apply: (m) => make(prefix + m.target) };
        }
        const scheme = checkValue(a.scheme ?? "https", where);
        return { label: labelOf(a, ` ${code} scheme ${scheme}`), when, apply: (m) => make(`${scheme}://${m.get("host") ?? m.host}${m.target}`) };
      }
      case "set_path": {
        const value = a.value;
        if (!value.startsWith("/") || [...value].some((c) => c.charCodeAt(0) <= 32 || c.charCodeAt(0) >= 127 || c === "?" || c === "#")) {
          throw new TandemError("E_CONFIG", `${where}: set_path value "${value}" must be a path starting with "/" (no query, no spaces)`);
        }
        return { label: labelOf(a, ` ${value}`), when, apply: (m) => void (m.path = value) };
      }
    }
    throw new TandemError("E_CONFIG", `${where}: unknown action "${(a as { action: string }).action}"`);
  });
}

/** Compiles http_response actions; their conditions are evaluated on the request. */
export function compileResponseRules(actions: HttpResponseAction[], conditions: ConditionCompiler, owner: string): Rule[] {
  return actions.map((a, i) => {
    const where = `${owner} http_response[${i}]`;
    const when = a.if ? conditions.compile(a.if) : undefined;
    const edit = headerRule(a, where);
    if (edit) return { label: labelOf(a, ""), when, apply: (m) => void edit(m) };
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
 * local response a rule produced (the rest are skipped), else undefined. Labels of the rules
 * that ran are appended to `fired` when given.
 */
export function applyRules(rules: Rule[], m: HttpMessage, req: HttpMessage, src: string, fired?: string[]): LocalResponse | undefined {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.when !== undefined && !r.when(req, src)) continue;
    fired?.push(r.label);
    const res = r.apply(m, req);
    if (res !== undefined) return res;
  }
  return undefined;
}
