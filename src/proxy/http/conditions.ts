// Routing conditions compiled once into predicates over a request: host, path, header, method,
// src, query, TLS, userlist credentials, stick counters.

import type { Cidr } from "../../core/address.ts";
import { cidrContains } from "../../core/address.ts";
import { TandemError } from "../../core/errors.ts";
import { userlistOf } from "../auth/userlist.ts";
import type { Condition, UserlistConfig } from "../config_types.ts";
import type { HttpMessage } from "./message.ts";
import type { RequestEnv } from "./request_env.ts";

/** A compiled condition: true when the request (with its client, counters...) matches. */
export type Predicate = (req: HttpMessage, env: RequestEnv) => boolean;

/** Compiles ACLs by name, once, and detects ACLs that refer to themselves. */
export class ConditionCompiler {
  readonly acls: Readonly<Record<string, Condition>>;
  readonly userlists: Readonly<Record<string, UserlistConfig>>;
  #compiled = new Map<string, Predicate>();
  #compiling = new Set<string>();

  constructor(acls: Readonly<Record<string, Condition>>, userlists: Readonly<Record<string, UserlistConfig>> = {}) {
    this.acls = acls;
    this.userlists = userlists;
  }

  /** Compiles a condition tree. Throws TandemError E_CONFIG for unknown/cyclic ACLs or bad regexes. */
  compile(c: Condition): Predicate {
    if ("all" in c) {
      const parts = c.all.map((x) => this.compile(x));
      return (r, s) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i](r, s)) return false;
        return true;
      };
    }
    if ("any" in c) {
      const parts = c.any.map((x) => this.compile(x));
      return (r, s) => {
        for (let i = 0; i < parts.length; i++) if (parts[i](r, s)) return true;
        return false;
      };
    }
    if ("not" in c) {
      const inner = this.compile(c.not);
      return (r, s) => !inner(r, s);
    }
    if ("acl" in c) return this.#acl(c.acl);
    if ("host" in c) return hostTest(c.host);
    if ("path" in c) return pathTest(c.path, c.match);
    if ("header" in c) return headerTest(c.header.toLowerCase(), c);
    if ("method" in c) {
      const set = new Set(c.method.map((m) => m.toUpperCase()));
      return (r) => set.has(r.method);
    }
    if ("src" in c) return srcTest(c.src);
    if ("httpAuth" in c) return this.#httpAuth(c.httpAuth, c.groups);
    if ("counter" in c) return counterTest(c);
    if ("tls" in c) {
      const want = c.tls;
      return (r) => (r.tls !== undefined) === want;
    }
    if ("sni" in c) {
      const names = nameTest(c.sni);
      return (r) => r.tls !== undefined && names(r.tls.sni);
    }
    return queryTest(c.query, c.exists, c.equals);
  }

  #httpAuth(name: string, groups: string[] | undefined): Predicate {
    const cfg = this.userlists[name];
    if (cfg === undefined) throw new TandemError("E_CONFIG", `Unknown userlist "${name}"`);
    const list = userlistOf(cfg);
    if (groups === undefined) return (r) => list.check(r.get("authorization")) !== undefined;
    return (r) => {
      const user = list.check(r.get("authorization"));
      return user !== undefined && list.inGroups(user, groups);
    };
  }

  #acl(name: string): Predicate {
    const done = this.#compiled.get(name);
    if (done) return done;
    const def = this.acls[name];
    if (def === undefined) throw new TandemError("E_CONFIG", `Unknown ACL "${name}"`);
    if (this.#compiling.has(name)) throw new TandemError("E_CONFIG", `ACL "${name}" refers to itself`);
    this.#compiling.add(name);
    const p = this.compile(def);
    this.#compiling.delete(name);
    this.#compiled.set(name, p);
    return p;
  }
}

function regex(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new TandemError("E_CONFIG", `Invalid regular expression /${source}/: ${(err as Error).message}`);
  }
}

/** Host names compare case-insensitively without port; "*.example.com" matches any subdomain. */
function hostTest(hosts: string[]): Predicate {
  const test = nameTest(hosts);
  return (r) => test(r.host);
}

/** A test of a lower-cased name against exact names and "*.suffix" wildcards (ports stripped). */
function nameTest(hosts: string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const h of hosts) {
    let t = h.toLowerCase();
    const colon = t.startsWith("[") ? t.indexOf("]:") + 1 : t.indexOf(":");
    if (colon > 0) t = t.slice(0, colon);
    if (t.startsWith("*.")) suffixes.push(t.slice(1));
    else exact.add(t);
  }
  if (suffixes.length === 0) return (n) => exact.has(n);
  return (n) => {
    if (exact.has(n)) return true;
    for (const s of suffixes) if (n.endsWith(s)) return true;
    return false;
  };
}

function pathTest(paths: string[], match: "prefix" | "exact" | "regex"): Predicate {
  if (match === "regex") {
    const res = paths.map(regex);
    return (r) => {
      for (const re of res) if (re.test(r.path)) return true;
      return false;
    };
  }
  if (match === "exact") {
    const set = new Set(paths);
    return (r) => set.has(r.path);
  }
  return (r) => {
    for (const p of paths) if (r.path.startsWith(p)) return true;
    return false;
  };
}

/**
 * No operand: the field must exist; `exists: false`: it must not. equals (any of the values, the
 * whole field value, case-insensitively with ignoreCase) / regex: any occurrence matches.
 */
function headerTest(lname: string, c: { exists?: boolean; equals?: string[]; regex?: string; ignoreCase?: boolean }): Predicate {
  if (c.equals !== undefined) {
    const fold = c.ignoreCase === true;
    const want = new Set(fold ? c.equals.map((v) => v.toLowerCase()) : c.equals);
    return (r) => {
      const l = r.lower;
      for (let i = 0; i < l.length; i++) if (l[i] === lname && want.has(fold ? r.values[i].toLowerCase() : r.values[i])) return true;
      return false;
    };
  }
  if (c.regex !== undefined) {
    const re = regex(c.regex);
    return (r) => {
      const l = r.lower;
      for (let i = 0; i < l.length; i++) if (l[i] === lname && re.test(r.values[i])) return true;
      return false;
    };
  }
  const want = c.exists ?? true;
  return (r) => (r.indexOf(lname) >= 0) === want;
}

function srcTest(cidrs: Cidr[]): Predicate {
  return (_r, env) => {
    const src = env.client.srcAddress;
    for (const c of cidrs) if (cidrContains(c, src)) return true;
    return false;
  };
}

/** A counter of the client's entry (0 when the frontend keeps none) compared with a number. */
function counterTest(c: Extract<Condition, { counter: string }>): Predicate {
  const { counter, value } = c;
  const read = (env: RequestEnv) => env.counters?.read(counter, env.clock.now()) ?? 0;
  switch (c.op) {
    case "gt":
      return (_r, env) => read(env) > value;
    case "ge":
      return (_r, env) => read(env) >= value;
    case "lt":
      return (_r, env) => read(env) < value;
    case "le":
      return (_r, env) => read(env) <= value;
    default:
      return (_r, env) => read(env) === value;
  }
}

/** Values of a query parameter, form-decoded ("+" is a space), or [] when absent. */
export function queryValues(search: string, name: string): string[] {
  const out: string[] = [];
  if (search.length < 2) return out;
  for (const pair of search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    const k = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (k === name) out.push(eq < 0 ? "" : decode(pair.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  const t = s.includes("+") ? s.replaceAll("+", " ") : s;
  if (!t.includes("%")) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

function queryTest(name: string, exists: boolean | undefined, equals: string | undefined): Predicate {
  if (equals !== undefined) return (r) => queryValues(r.search, name).includes(equals);
  const want = exists ?? true;
  return (r) => (queryValues(r.search, name).length > 0) === want;
}

/** A condition as one readable line, for `tandem route` and logs. */
export function describeCondition(c: Condition): string {
  if ("all" in c) return c.all.length === 1 ? describeCondition(c.all[0]) : `(${c.all.map(describeCondition).join(" and ")})`;
  if ("any" in c) return c.any.length === 1 ? describeCondition(c.any[0]) : `(${c.any.map(describeCondition).join(" or ")})`;
  if ("not" in c) return `not ${describeCondition(c.not)}`;
  if ("acl" in c) return c.acl;
  if ("host" in c) return `host ${c.host.join("|")}`;
  if ("path" in c) return `path ${c.match === "exact" ? "=" : c.match === "prefix" ? "^=" : "~"} ${c.path.join("|")}`;
  if ("header" in c) return `header ${c.header}${c.equals !== undefined ? ` ${c.ignoreCase ? "=~i" : "="} ${c.equals.map((v) => JSON.stringify(v)).join("|")}` : c.regex !== undefined ? ` ~ /${c.regex}/` : c.exists === false ? " absent" : " present"}`;
  if ("method" in c) return `method ${c.method.join("|")}`;
  if ("src" in c) return `src ${c.src.map((x) => `${x.address}/${x.prefix}`).join("|")}`;
  if ("tls" in c) return c.tls ? "tls" : "not tls";
  if ("sni" in c) return `sni ${c.sni.join("|")}`;
  if ("httpAuth" in c) return `http_auth ${c.httpAuth}${c.groups ? ` groups ${c.groups.join("|")}` : ""}`;
  if ("counter" in c) return `${c.counter} ${c.op} ${c.value}`;
  return `query ${c.query}${c.equals !== undefined ? ` = ${JSON.stringify(c.equals)}` : c.exists === false ? " absent" : " present"}`;
}
