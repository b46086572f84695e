// The states of a mode-http session as data: the client connection's and the current exchange's,
// each with its transition table (RFC 9112 §9: a connection carries requests one after another).

/**
 * The client connection, request by request:
 * - idle: between requests, no byte of the next one yet (keep-alive)
 * - head: receiving a request head
 * - body: the head is done, the request body is arriving
 * - sent: the request is complete; waiting for the response or forwarding it
 * - tunnel: protocols switched (101): bytes pass both ways untouched
 * - closed: our side is closing or closed
 */
export type ClientState = "idle" | "head" | "body" | "sent" | "tunnel" | "closed";

export type ClientEvent =
  | "bytes" // the first byte of a request arrived
  | "head_with_body" // a head that announces a body
  | "head_complete" // a head without body: the request is complete
  | "body_complete"
  | "response_done" // the response went out and the connection stays open
  | "switched" // 101 Switching Protocols was forwarded
  | "close";

/** Every allowed transition; anything else is a programming error. */
export const CLIENT_TRANSITIONS: Readonly<Record<ClientState, Partial<Record<ClientEvent, ClientState>>>> = {
  idle: { bytes: "head", close: "closed" },
  head: { head_with_body: "body", head_complete: "sent", close: "closed" },
  // A response may be answered locally before the body is in (a deny): it ends the connection.
  // A server may switch protocols before the body is in (an Upgrade request with a body).
  body: { body_complete: "sent", switched: "tunnel", close: "closed" },
  // A request answered without a server (a rule, an error) finishes while still "sent".
  sent: { response_done: "idle", switched: "tunnel", close: "closed" },
  tunnel: { close: "closed" },
  closed: { close: "closed" },
};

/** The state after event, or undefined when the table has no such transition. */
export function clientStep(state: ClientState, event: ClientEvent): ClientState | undefined {
  return CLIENT_TRANSITIONS[state][event];
}

/**
 * The current exchange with a server:
 * - none: no request out (choosing a server, connecting, or between requests)
 * - head: the request went out; reading the response head (1xx interim heads included)
 * - body: the response head was forwarded; forwarding its body
 */
export type ResponseState = "none" | "head" | "body";

export type ResponseEvent =
  | "sent" // the request head went to a connected server
  | "final_head" // a final (non-1xx) response head was forwarded
  | "done" // the whole response was forwarded
  | "failed"; // the server failed (retry or error page) or the client went away

export const RESPONSE_TRANSITIONS: Readonly<Record<ResponseState, Partial<Record<ResponseEvent, ResponseState>>>> = {
  none: { sent: "head", failed: "none", done: "none" },
  head: { final_head: "body", done: "none", failed: "none" },
  body: { done: "none", failed: "none" },
};

/** The state after event, or undefined when the table has no such transition. */
export function responseStep(state: ResponseState, event: ResponseEvent): ResponseState | undefined {
  return RESPONSE_TRANSITIONS[state][event];
}
