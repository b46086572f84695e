// HTTP/2 header lists ↔ HTTP/1.1 message heads (RFC 9113 §8.2-§8.3), for a stream relayed to an HTTP/1.1 server.

import type { OutgoingHttpHeaders } from "node:http2";
import { HttpMessage } from "../http/message.ts";
import { TCHAR, VALUE } from "../http/parser.ts";

/** A request the stream cannot carry to a server: RST_STREAM / 400 with this reason. */
export class H2RequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "H2RequestError";
    this.status = status;
  }
}

/** Fields that only mean something on one HTTP/1.1 connection (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

const validName = (n: string) => {
  for (let i = 0; i < n.length; i++) if (TCHAR[n.charCodeAt(i)] !== 1) return false;
  return n.length > 0;
};
const validValue = (v: string) => {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 255 || VALUE[c] !== 1) return false;
  }
  return true;
};

/**
 * The HTTP/1.1 request for an HTTP/2 request header list (`raw`: name, value, name, value... as
 * received, pseudo-header fields first). :authority becomes Host when the list has none
 * (RFC 9113 §8.3.1); cookie crumbs are joined with "; " (§8.2.3). `hasBody`: DATA frames follow.
 * Throws H2RequestError for what RFC 9113 §8.1.1 calls malformed.
 */
export function requestFromH2(raw: readonly string[], hasBody: boolean): HttpMessage {
  const m = new HttpMessage();
  let method = "";
  let path = "";
  let scheme = "";
  let authority = "";
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.charCodeAt(0) === 58) {
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":scheme") scheme = value;
      else if (name === ":authority") authority = value;
      else if (name !== ":protocol") throw new H2RequestError(400, `unknown pseudo-header "${name}"`);
      continue;
    }
    if (name !== name.toLowerCase() || !validName(name)) throw new H2RequestError(400, `invalid field name "${name}"`);
    if (!validValue(value)) throw new H2RequestError(400, `invalid value in field "${name}"`);
    if (CONNECTION_SPECIFIC.has(name)) {
      if (name === "te" && value.trim().toLowerCase() === "trailers") continue;
      throw new H2RequestError(400, `connection-specific field "${name}" in an HTTP/2 request`);
    }
    if (name === "cookie") {
      cookies.push(value);
      continue;
    }
    if (name === "expect") continue; // 100-continue has no meaning across the hop: the body comes anyway
    m.add(name, value);
  }
  if (method === "") throw new H2RequestError(400, "no :method");
  if (method === "CONNECT") throw new H2RequestError(501, "CONNECT is not supported");
  if (path === "" || (path[0] !== "/" && !(path === "*" && method === "OPTIONS"))) throw new H2RequestError(400, `invalid :path "${path}"`);
  if (scheme !== "https" && scheme !== "http") throw new H2RequestError(400, `invalid :scheme "${scheme}"`);
  if (!validValue(path) || path.includes(" ")) throw new H2RequestError(400, "invalid :path");
  if (!validValue(authority) || authority.includes(" ") || authority.includes("@")) throw new H2RequestError(400, "invalid :authority");
  if (cookies.length) m.add("cookie", cookies.join("; "));
  m.method = method;
  const q = path.indexOf("?");
  m.path = q < 0 ? path : path.slice(0, q);
  m.search = q < 0 ? "" : path.slice(q);
  m.minor = 1;
  const host = m.get("host");
  if (host === undefined && authority !== "") {
    // Host first, as an HTTP/1.1 client writes it.
    m.names.unshift("Host");
    m.lower.unshift("host");
    m.values.unshift(authority);
    m.spans.unshift(-1);
  }
  const h = (host ?? authority).toLowerCase();
  const colon = h.startsWith("[") ? h.indexOf("]:") + 1 : h.indexOf(":");
  m.host = colon > 0 ? h.slice(0, colon) : h;
  const cl = m.getAll("content-length");
  if (cl.length > 0) {
    if (!cl.every((v) => /^\d{1,15}$/.test(v) && v === cl[0])) throw new H2RequestError(400, "invalid content-length");
    m.contentLength = Number(cl[0]);
    if (!hasBody && m.contentLength > 0) throw new H2RequestError(400, "content-length without a body");
  } else if (hasBody) {
    // No length: the body goes chunked to the server (RFC 9112 §7.1).
    m.add("Transfer-Encoding", "chunked");
    m.chunked = true;
  }
  m.edited = true;
  return m;
}

/**
 * The HTTP/2 response header list of an HTTP/1.1 response: names lower-cased, connection-specific
 * fields dropped (and those its Connection field names), repeated fields as lists.
 */
export function responseToH2(res: HttpMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":status": res.status };
  const drop = res.connOther;
  for (let i = 0; i < res.lower.length; i++) {
    const name = res.lower[i];
    if (CONNECTION_SPECIFIC.has(name) || (drop !== undefined && drop.includes(name))) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = res.values[i];
    else if (Array.isArray(prev)) prev.push(res.values[i]);
    else out[name] = [String(prev), res.values[i]];
  }
  return out;
}
