// Which backend a request goes to: http_request rules, then use_backend in order, then
// default_backend; then the chosen backend's own http_request rules.

import type { BackendConfig, FrontendConfig, ProxyConfig } from "../config_types.ts";
import { ConditionCompiler, describeCondition } from "./conditions.ts";
import type { Predicate } from "./conditions.ts";
import type { HttpMessage } from "./message.ts";
import type { RequestEnv } from "./request_env.ts";
import type { LocalResponse } from "./responses.ts";
import { applyRules, compileRequestRules, compileResponseRules } from "./rules.ts";
import type { Rule } from "./rules.ts";

/** A frontend's rules compiled once (regexes, ACLs), cached per config object. */
export interface CompiledFrontend {
  config: FrontendConfig;
  requestRules: Rule[];
  responseRules: Rule[];
  routes: { backend: string; when: Predicate; label: string }[];
}

/** A backend's rules compiled once per config object. */
export interface CompiledBackend {
  requestRules: Rule[];
  responseRules: Rule[];
}

const frontends = new WeakMap<FrontendConfig, CompiledFrontend>();
const backends = new WeakMap<BackendConfig, CompiledBackend>();

/** Compiles (once per config object) a frontend. Throws TandemError E_CONFIG on invalid rules. */
export function compileFrontend(f: FrontendConfig): CompiledFrontend {
  let c = frontends.get(f);
  if (c) return c;
  const conditions = new ConditionCompiler(f.acls, f.userlists);
  const owner = `Frontend "${f.name}"`;
  c = {
    config: f,
    requestRules: compileRequestRules(f.httpRequest, conditions, owner),
    responseRules: compileResponseRules(f.httpResponse, conditions, owner),
    routes: f.useBackend.map((u) => ({ backend: u.backend, when: conditions.compile(u.if), label: `use_backend ${u.backend} if ${describeCondition(u.if)}` })),
  };
  frontends.set(f, c);
  return c;
}

/** A backend's http_request and http_response rules, compiled once per config object. Throws TandemError E_CONFIG. */
export function compileBackend(b: BackendConfig): CompiledBackend {
  let r = backends.get(b);
  if (!r) {
    const conditions = new ConditionCompiler(b.acls ?? {}, b.userlists ?? {});
    const owner = `Backend "${b.name}"`;
    r = { requestRules: compileRequestRules(b.httpRequest ?? [], conditions, owner), responseRules: compileResponseRules(b.httpResponse, conditions, owner) };
    backends.set(b, r);
  }
  return r;
}

/** Served when no use_backend matched and there is no default_backend. */
const NO_BACKEND: LocalResponse = { status: 503, body: "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n", contentType: "text/html", headers: [["Cache-Control", "no-cache"]] };

/**
 * Routes a request: applies the frontend's http_request rules in order (they may edit req, or
 * answer it: deny/redirect/return/auth...), then the first use_backend whose condition holds,
 * else default_backend. Returns the backend name or the response to send. With `fired`, the
 * labels of the rules that ran and the routing decision are appended (for `tandem route`).
 */
export function route(frontend: FrontendConfig | CompiledFrontend, req: HttpMessage, env: RequestEnv, fired?: string[]): string | LocalResponse {
  const f = "routes" in frontend ? frontend : compileFrontend(frontend);
  const res = applyRules(f.requestRules, req, req, env, fired);
  if (res !== undefined) return res;
  const routes = f.routes;
  for (let i = 0; i < routes.length; i++) {
    if (routes[i].when(req, env)) {
      fired?.push(routes[i].label);
      return routes[i].backend;
    }
  }
  const d = f.config.defaultBackend;
  if (d !== undefined) {
    fired?.push(`default_backend ${d}`);
    return d;
  }
  fired?.push("no backend: 503");
  return NO_BACKEND;
}

/** The chosen backend's http_request rules (haproxy runs a backend's after the frontend's): a response, or undefined to go on. */
export function backendRequest(b: BackendConfig, req: HttpMessage, env: RequestEnv, fired?: string[]): LocalResponse | undefined {
  const rules = compileBackend(b).requestRules;
  return rules.length === 0 ? undefined : applyRules(rules, req, req, env, fired);
}

/**
 * Compiles every http frontend's and backend's rules and returns what fails (invalid header
 * names/values, regexes, set_path values, expressions, cyclic ACLs), one message each; empty =
 * fine. For `--check` and reload validation, so these never surface as 500s at run time.
 */
export function checkHttpConfig(config: ProxyConfig): string[] {
  return httpRuleProblems(config).map((p) => p.message);
}

/** checkHttpConfig with the frontend or backend each problem belongs to. */
export function httpRuleProblems(config: ProxyConfig): { frontend?: string; backend?: string; message: string }[] {
  const out: { frontend?: string; backend?: string; message: string }[] = [];
  for (const f of config.frontends) {
    if (f.mode !== "http") continue;
    try {
      compileFrontend(f);
    } catch (err) {
      out.push({ frontend: f.name, message: (err as Error).message });
    }
  }
  for (const b of config.backends) {
    try {
      compileBackend(b);
    } catch (err) {
      out.push({ backend: b.name, message: (err as Error).message });
    }
  }
  return out;
}
