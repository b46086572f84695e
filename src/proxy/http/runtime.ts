// What the HTTP session needs per frontend/backend config, built once per config object.

import type { BackendConfig, FrontendConfig } from "../config_types.ts";
import type { Logger } from "../../core/log.ts";
import type { HeadLimits } from "./parser.ts";
import { ErrorPages } from "./responses.ts";
import { backendResponseRules, compileFrontend } from "./routing.ts";
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

/** Per backend config: response rules and what retry_on allows. */
export interface BackendRuntime {
  rules: Rule[];
  /** A response rule tests the client address. */
  usesSrc: boolean;
  kinds: Set<string>;
  statuses: Set<number>;
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

/** The runtime of a backend config (Backend.http, built once per config): retry_on split into failure kinds and statuses. */
export function backendRuntime(b: BackendConfig): BackendRuntime {
  const kinds = new Set<string>();
  const statuses = new Set<number>();
  for (const r of b.retryOn) {
    if (/^\d{3}$/.test(r)) statuses.add(Number(r));
    else if (r === "all-retryable-errors") for (const k of ["conn-failure", "empty-response", "junk-response", "response-timeout"]) kinds.add(k);
    else kinds.add(r);
  }
  if (b.retryOn.includes("all-retryable-errors")) for (const s of [500, 502, 503, 504]) statuses.add(s);
  const rules = backendResponseRules(b);
  return { rules, usesSrc: rules.usesSrc === true, kinds, statuses };
}
