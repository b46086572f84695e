// Where a complete request head goes: refused (an error page), answered here (monitor URI, a
// rule), or a backend (after that backend's own request rules).

import type { Logger } from "../../core/log.ts";
import type { Backend } from "../backend.ts";
import { acmeAnswer } from "./acme_answer.ts";
import type { HttpMessage } from "./message.ts";
import type { RequestEnv } from "./request_env.ts";
import type { LocalResponse } from "./responses.ts";
import { backendRequest, route } from "./routing.ts";
import type { FrontendRuntime } from "./runtime.ts";

/** A request answered with an error page and a closed connection. Made only on that path. */
export class Refusal {
  readonly status: number;
  readonly why: string;
  /** The access log's termination state, when not the default "P-". */
  readonly termination: string | undefined;
  constructor(status: number, why: string, termination?: string) {
    this.status = status;
    this.why = why;
    this.termination = termination;
  }
}

/** haproxy's answer to its monitor-uri. */
const MONITOR: LocalResponse = { status: 200, body: "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n", contentType: "text/html", headers: [["Cache-Control", "no-cache"]] };

/**
 * Decides a request: methods and expectations tandem does not serve, the monitor URI (exactly
 * the request target, before any rule, as haproxy), ACME challenges, the frontend's rules and
 * routing, then the chosen backend's request rules. Never throws: a routing failure is logged
 * and refused with 500.
 */
export function admit(req: HttpMessage, fe: FrontendRuntime, backends: ReadonlyMap<string, Backend>, env: RequestEnv, log: Logger, frontend: string): Backend | LocalResponse | Refusal {
  if (req.method === "CONNECT") return new Refusal(501, "CONNECT is not supported");
  if (req.expect !== "" && req.expect !== "100-continue") return new Refusal(417, `unsupported Expect "${req.expect}"`);
  const c = fe.compiled;
  if (c === undefined) return new Refusal(500, fe.error ?? "frontend rules failed to compile");
  const monitor = c.config.monitorUri;
  if (monitor !== undefined && req.target === monitor) return MONITOR;
  // ACME HTTP-01 validations are answered before any rule (src/acme/challenges.ts).
  const acme = acmeAnswer(req);
  if (acme !== undefined) return acme;
  let backend: Backend | undefined;
  try {
    const decision = route(c, req, env);
    if (typeof decision !== "string") return decision;
    backend = backends.get(decision);
    if (backend === undefined) return new Refusal(503, `backend "${decision}" does not exist`, "PC");
    const answer = backendRequest(backend.config, req, env);
    if (answer !== undefined) return answer;
  } catch (err) {
    log.error(`Routing failed in "${frontend}": ${(err as Error).message}`);
    return new Refusal(500, "routing failed");
  }
  return backend;
}
