// What the HTTP session needs per frontend/backend config, built once per config object.

import type { BackendConfig, FrontendConfig } from "../config_types.ts";
import type { Logger } from "../../core/log.ts";
import type { HeadLimits } from "./parser.ts";
import { ErrorPages } from "./responses.ts";
import { compileBackend, compileFrontend } from "./routing.ts";
import type { CompiledFrontend } from "./routing.ts";
import type { Rule } from "./rules.ts";

/** Per frontend config: compiled rules, error pages, access logger (built once). */
export interface FrontendRuntime {
  compiled?: CompiledFrontend;
  error?: string;
  pages: ErrorPages;
  access?: Logger;
  format: "text" | "json";
  /** Limits for response heads: the frontend's, raised to 64 KiB and 200 fields at least. */
  responseLimits: HeadLimits;
  /** The frontend's HTTP/2 session factory (src/proxy/h2/session.ts), made on the first h2 connection. */
  h2?: unknown;
}

/** Per backend config: response rules, what retry_on allows, its error pages. */
export interface BackendRuntime {
  rules: Rule[];
  kinds: Set<string>;
  statuses: Set<number>;
  /** The backend's errorfiles (undefined: the frontend's pages apply). */
  pages: ErrorPages | undefined;
}

/**
 * The runtime of a frontend config, built once per Frontend (SessionHandler.prepare); a rule that
 * fails to compile is logged once and answered with 500.
 */
export function frontendRuntime(f: FrontendConfig, log: Logger): FrontendRuntime {
  const responseLimits = { requestLine: 8192, headerBytes: Math.max(f.limits.headerBytes, 65536), headerCount: Math.max(f.limits.headerCount, 200) };
  const rt: FrontendRuntime = { pages: new ErrorPages(f.errorfiles, log), format: f.accessLog.format, responseLimits };
  try {
    rt.compiled = compileFrontend(f);
  } catch (err) {
    rt.error = (err as Error).message;
    log.error(`Frontend "${f.name}" cannot route: ${rt.error}; answering 500`, { frontend: f.name });
  }
  if (f.accessLog.enabled) rt.access = log.child("access");
  return rt;
}

/**
 * The runtime of a backend config (Backend.http, built once per config): retry_on split into
 * failure kinds and statuses, its error pages. Throws TandemError E_CONFIG for rules that do not
 * compile (checked at load).
 */
export function backendRuntime(b: BackendConfig, log: Logger): BackendRuntime {
  const kinds = new Set<string>();
  const statuses = new Set<number>();
  for (const r of b.retryOn) {
    if (/^\d{3}$/.test(r)) statuses.add(Number(r));
    else if (r === "all-retryable-errors") for (const k of ["conn-failure", "empty-response", "junk-response", "response-timeout"]) kinds.add(k);
    else kinds.add(r);
  }
  if (b.retryOn.includes("all-retryable-errors")) for (const s of [500, 502, 503, 504]) statuses.add(s);
  const rules = compileBackend(b).responseRules;
  const files = b.errorfiles ?? {};
  return { rules, kinds, statuses, pages: Object.keys(files).length > 0 ? new ErrorPages(files, log) : undefined };
}
