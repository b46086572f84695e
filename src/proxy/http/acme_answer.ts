// The HTTP side of ACME HTTP-01: a request for a published token gets its key authorization.

import { challenges, CHALLENGE_PREFIX } from "../../acme/challenges.ts";
import type { HttpMessage } from "./message.ts";
import type { LocalResponse } from "./responses.ts";

/** The response for an ACME validation request (RFC 8555 §8.3), or undefined for any other request. */
export function acmeAnswer(req: HttpMessage): LocalResponse | undefined {
  // One comparison of the first bytes for every other request.
  if (req.path.length <= CHALLENGE_PREFIX.length || req.path.charCodeAt(1) !== 46 || (req.method !== "GET" && req.method !== "HEAD")) return undefined;
  const body = challenges.answer(req.path);
  return body === undefined ? undefined : { status: 200, body, contentType: "application/octet-stream" };
}
