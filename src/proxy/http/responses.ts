// Responses tandem writes itself: errors (with errorfiles), deny/redirect/return, 100 Continue.

import { readFileSync } from "node:fs";
import type { Logger } from "../../core/log.ts";

/** A response produced by the proxy rather than a server. */
export interface LocalResponse {
  status: number;
  reason?: string;
  body?: string;
  contentType?: string;
  /** Extra fields, e.g. Location. */
  headers?: [string, string][];
  /** Sent after timeout.tarpit, then the connection closes (the tarpit action). */
  tarpit?: boolean;
}

const REASONS: Record<number, string> = {
  100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect",
  308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 408: "Request Timeout", 410: "Gone", 413: "Content Too Large", 414: "URI Too Long",
  417: "Expectation Failed", 421: "Misdirected Request", 425: "Too Early", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
};

const EXPLAIN: Record<number, string> = {
  400: "Your browser sent an invalid request.",
  401: "You need a valid user and password to access this content.",
  403: "Request forbidden by administrative rules.",
  408: "Your browser didn't send a complete request in time.",
  414: "The request line is too long.",
  417: "The expectation given in the Expect header cannot be met.",
  429: "You have sent too many requests in a given amount of time.",
  431: "The request header fields are too large.",
  500: "An internal server error occurred.",
  501: "The request method is not supported.",
  502: "The server returned an invalid or incomplete response.",
  503: "No server is available to handle this request.",
  504: "The server didn't respond in time.",
  505: "The HTTP version is not supported.",
};

/** The reason phrase of a status (RFC 9110 §15), or "Unknown". */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Unknown";
}

/** The small default HTML body of an error status. */
export function defaultBody(status: number): string {
  return `<html><body><h1>${status} ${reasonPhrase(status)}</h1>\n${EXPLAIN[status] ?? ""}\n</body></html>\n`;
}

/**
 * Serializes a local response. `close` adds Connection: close; `keepAlive10` adds
 * Connection: keep-alive for an HTTP/1.0 client that asked for it; `head` omits the body
 * (a HEAD request) but keeps its Content-Length (RFC 9110 §9.3.2).
 */
export function serializeLocal(r: LocalResponse, opts: { close: boolean; keepAlive10?: boolean; head?: boolean }): string {
  const body = r.body ?? "";
  let s = `HTTP/1.1 ${r.status} ${r.reason ?? reasonPhrase(r.status)}\r\n`;
  if (r.status !== 204 && r.status !== 304) {
    s += `Content-Length: ${Buffer.byteLength(body, "latin1")}\r\n`;
    if (body !== "") s += `Content-Type: ${r.contentType ?? "text/plain"}\r\n`;
  }
  if (r.headers) for (const [k, v] of r.headers) s += `${k}: ${v}\r\n`;
  s += opts.close ? "Connection: close\r\n" : opts.keepAlive10 ? "Connection: keep-alive\r\n" : "";
  s += "\r\n";
  return opts.head || r.status === 204 || r.status === 304 ? s : s + body;
}

/** The interim response that lets a client send its body (RFC 9110 §10.1.1). */
export const CONTINUE_100 = "HTTP/1.1 100 Continue\r\n\r\n";

/**
 * Error pages of one frontend: the configured errorfile for a status, else the default page.
 * An errorfile holding a full response ("HTTP/1.x ...") is sent as it is (haproxy's format); any
 * other content is used as the HTML body. Files are read once per config; an unreadable file is logged
 * once and the default page used.
 */
export class ErrorPages {
  #files: Record<number, string>;
  #log: Logger;
  #cache = new Map<number, string>();

  constructor(errorfiles: Record<number, string>, log: Logger) {
    this.#files = errorfiles;
    this.#log = log;
  }

  /** The whole error response for status, always with Connection: close. */
  get(status: number): string {
    const hit = this.#cache.get(status);
    if (hit !== undefined) return hit;
    const out = this.#build(status);
    this.#cache.set(status, out);
    return out;
  }

  #build(status: number): string {
    const path = this.#files[status];
    const text = path !== undefined ? readOnce(path, this.#log) : null;
    if (text !== null && /^HTTP\/1\.[01] \d{3}/.test(text)) {
      const end = text.indexOf("\r\n\r\n") >= 0 ? text.indexOf("\r\n\r\n") : text.indexOf("\n\n");
      if (end < 0) return text;
      // Force Connection: close: the connection is closed after an error page.
      const sep = text[end] === "\r" ? "\r\n" : "\n";
      const head = text.slice(0, end).split(sep).filter((l) => !/^connection\s*:/i.test(l));
      return head.join("\r\n") + "\r\nConnection: close\r\n\r\n" + text.slice(end + (sep.length * 2));
    }
    const body = text ?? defaultBody(status);
    return serializeLocal({ status, body, contentType: "text/html", headers: [["Cache-Control", "no-cache"]] }, { close: true });
  }
}

function readOnce(path: string, log: Logger): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch (err) {
    log.error(`Cannot read errorfile "${path}": ${(err as Error).message}; using the default page`);
    return null;
  }
}
