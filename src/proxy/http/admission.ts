// Where a complete request head goes: refused (an error page), answered here (a rule), or a backend.

import type { Logger } from "../../core/log.ts";
import type { Backend } from "../backend.ts";
import { acmeAnswer } from "./acme_answer.ts";
import type { HttpMessage } from "./message.ts";
import type { LocalResponse } from "./responses.ts";
import { route } from "./routing.ts";
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

/**
 * Decides a request: methods and expectations tandem does not serve, ACME challenges, the frontend's rules and
 * routing (src() is read only when a rule tests the client address). Never throws: a routing
 * failure is logged and refused with 500.
 */
export function admit(req: HttpMessage, fe: FrontendRuntime, backends: ReadonlyMap<string, Backend>, src: () => string, log: Logger, frontend: string): Backend | LocalResponse | Refusal {
  if (req.method === "CONNECT") return new Refusal(501, "CONNECT is not supported");
  if (req.expect !== "" && req.expect !== "100-continue") return new Refusal(417, `unsupported Expect "${req.expect}"`);
  // ACME HTTP-01 validations are answered before any rule (src/acme/challenges.ts).
  const acme = acmeAnswer(req);
  if (acme !== undefined) return acme;
  const c = fe.compiled;
  if (c === undefined) return new Refusal(500, fe.error ?? "frontend rules failed to compile");
  let decision: string | LocalResponse;
  try {
    decision = route(c, req, c.usesSrc ? src() : "");
  } catch (err) {
    log.error(`Routing failed in "${frontend}": ${(err as Error).message}`);
    return new Refusal(500, "routing failed");
  }
  if (typeof decision !== "string") return decision;
  return backends.get(decision) ?? new Refusal(503, `backend "${decision}" does not exist`, "PC");
}
