// Incremental, strict HTTP/1.1 head parser for requests and responses (RFC 9110, RFC 9112).

import { HttpMessage } from "./message.ts";
import { hostOf, normAuthority, semantics } from "./semantics.ts";
import { COLON, CR, HTAB, HttpParseError, LF, SP, TARGET, TCHAR, VALUE } from "./syntax.ts";
import type { HeadLimits } from "./syntax.ts";

export { HttpParseError, TCHAR, VALUE };
export type { HeadLimits };

/**
 * Common field names, in their usual and lower-case spellings: a name received in one of them is
 * matched byte by byte and takes these strings instead of two new ones per field.
 */
const KNOWN_NAMES = [
  "Host", "Connection", "Content-Length", "Content-Type", "Transfer-Encoding", "Server", "Date", "User-Agent", "Accept",
  "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Cache-Control", "Cookie", "Set-Cookie", "Last-Modified", "ETag",
  "Keep-Alive", "Upgrade", "Expect", "Location", "Vary", "Referer", "Origin", "Authorization", "Pragma", "Expires",
  "If-Modified-Since", "If-None-Match", "Content-Encoding", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Via",
];
const KNOWN_BY_LENGTH: { bytes: Buffer; name: string; lower: string }[][] = [];
for (const name of KNOWN_NAMES) {
  for (const spelling of [name, name.toLowerCase()]) (KNOWN_BY_LENGTH[name.length] ??= []).push({ bytes: Buffer.from(spelling, "latin1"), name: spelling, lower: name.toLowerCase() });
}

/** The KNOWN_BY_LENGTH entry spelled exactly like b[pos, end), or undefined. */
function knownName(b: Buffer, pos: number, end: number): { name: string; lower: string } | undefined {
  const list = KNOWN_BY_LENGTH[end - pos];
  if (list === undefined) return undefined;
  for (let j = 0; j < list.length; j++) {
    const k = list[j].bytes;
    let i = 0;
    while (i < k.length && k[i] === b[pos + i]) i++;
    if (i === k.length) return list[j];
  }
  return undefined;
}

/** Empty lines tolerated before a request line (RFC 9112 §2.2). */
const MAX_LEADING_EMPTY = 4;

/**
 * Accumulates bytes until a whole head (up to the empty line) is there, then parses it.
 * push() scans only the new bytes for line ends, checks the limits on the way,
 * and copies nothing while the head sits in one chunk. After a head is returned, `rest` holds the
 * bytes that followed it (body or the next pipelined message), or undefined.
 */
export class HeadParser {
  readonly kind: "request" | "response";
  limits: HeadLimits;
  /** Bytes after the last returned head. */
  rest: Buffer | undefined;
  #chunks: Buffer[] = [];
  #total = 0;
  /** Offset (in the accumulated bytes) where the head starts, after skipped empty lines. */
  #start = 0;
  #lineStart = 0;
  #lines = 0;
  #skipped = 0;
  #lastByte = -1;

  constructor(kind: "request" | "response", limits: HeadLimits) {
    this.kind = kind;
    this.limits = limits;
  }

  /** Bytes held for an incomplete head (0 = idle between messages). */
  get buffered(): number {
    return this.#total - this.#start;
  }

  /** Forgets any partial head. */
  reset(): void {
    const chunks = this.#chunks;
    while (chunks.length !== 0) chunks.pop(); // cheaper than setting length (a runtime call)
    this.#total = this.#start = this.#lineStart = this.#lines = this.#skipped = 0;
    this.#lastByte = -1;
    this.rest = undefined;
  }

  /**
   * Adds bytes; returns the parsed head when complete (then see `rest`), else undefined.
   * Throws HttpParseError for anything malformed or over a limit.
   */
  push(chunk: Buffer): HttpMessage | undefined {
    this.rest = undefined;
    if (this.#lastByte === CR && chunk.length !== 0 && chunk[0] !== LF) throw this.#bareCR();
    const base = this.#total;
    this.#chunks.push(chunk);
    this.#total += chunk.length;
    let from = 0;
    for (;;) {
      const i = nextLF(chunk, from);
      if (i < 0) break;
      const p = base + i;
      const len = p - this.#lineStart;
      const prev = i > 0 ? chunk[i - 1] : this.#lastByte;
      const empty = len === 0 || (len === 1 && prev === CR);
      if (this.#lines === 0) {
        if (empty) {
          if (this.kind === "response" || ++this.#skipped > MAX_LEADING_EMPTY) throw this.#error("empty line before the start line");
          this.#start = this.#lineStart = p + 1;
          from = i + 1;
          continue;
        }
        if (len > this.limits.requestLine) throw this.#lineTooLong();
      } else if (empty) {
        const end = p + 1;
        const head = this.#take(end);
        this.rest = end - base < chunk.length ? chunk.subarray(end - base) : undefined;
        this.#resetKeepRest();
        return this.kind === "request" ? parseRequest(head) : parseResponse(head);
      }
      if (++this.#lines > this.limits.headerCount + 1) throw this.#error(`more than ${this.limits.headerCount} header fields`, 431);
      this.#lineStart = p + 1;
      from = i + 1;
    }
    // RFC 9112 §2.2: a bare CR is invalid. In a complete head the byte tables of the line parsers
    // refuse it; in an incomplete one it is refused now, not after timeout http_request: a peer
    // that takes a bare CR for a line end sees the head end where this parser waits for it.
    for (let k = chunk.indexOf(CR); k >= 0 && k + 1 < chunk.length; k = chunk.indexOf(CR, k + 1)) {
      if (chunk[k + 1] !== LF) throw this.#bareCR();
    }
    if (chunk.length) this.#lastByte = chunk[chunk.length - 1];
    const pending = this.#total - this.#start;
    if (this.#lines === 0 && pending > this.limits.requestLine) throw this.#lineTooLong();
    if (pending > this.limits.headerBytes) throw this.#error(`header block larger than ${this.limits.headerBytes} bytes`, 431);
    return undefined;
  }

  /** Clears state after a complete head, keeping `rest`. */
  #resetKeepRest(): void {
    const rest = this.rest;
    this.reset();
    this.rest = rest;
  }

  /** The bytes [start, end) of the accumulated stream, as one Buffer (a view when possible). */
  #take(end: number): Buffer {
    const size = end - this.#start;
    if (size > this.limits.headerBytes) throw this.#error(`header block larger than ${this.limits.headerBytes} bytes`, 431);
    let off = 0;
    let first = 0;
    while (off + this.#chunks[first].length <= this.#start) off += this.#chunks[first++].length;
    const c = this.#chunks[first];
    if (end - off <= c.length) return this.#start === off && end - off === c.length ? c : c.subarray(this.#start - off, end - off);
    const out = Buffer.allocUnsafe(size);
    let w = 0;
    for (let k = first, o = off; w < size; o += this.#chunks[k].length, k++) {
      const ch = this.#chunks[k];
      const s = Math.max(0, this.#start - o);
      const e = Math.min(ch.length, end - o);
      w += ch.copy(out, w, s, e);
    }
    return out;
  }

  #lineTooLong(): HttpParseError {
    return this.kind === "request"
      ? new HttpParseError(414, `request line longer than ${this.limits.requestLine} bytes`)
      : new HttpParseError(502, `status line longer than ${this.limits.requestLine} bytes`);
  }

  #bareCR(): HttpParseError {
    return this.#error("CR not followed by LF (bare CR)");
  }

  #error(message: string, status = 400): HttpParseError {
    return new HttpParseError(this.kind === "request" ? status : 502, message);
  }
}

/**
 * Index of the next LF in b from `from`, or -1. Head lines are short: a plain loop over the first
 * bytes costs less than a call into native code; a long run without LF goes to indexOf (memchr).
 */
function nextLF(b: Buffer, from: number): number {
  const stop = Math.min(b.length, from + 256);
  for (let i = from; i < stop; i++) if (b[i] === LF) return i;
  return stop < b.length ? b.indexOf(LF, stop) : -1;
}

/**
 * The line starting at pos in a complete head (its text `t`, the same bytes as b): `lineEndAt` is
 * the index of its CRLF or bare LF (RFC 9112 §2.2), the return value the start of the next line.
 * A CR anywhere else is caught by the byte tables of whoever reads the line.
 */
let lineEndAt = 0;
function nextLine(t: string, b: Buffer, pos: number): number {
  const lf = t.indexOf("\n", pos);
  lineEndAt = lf > pos && b[lf - 1] === CR ? lf - 1 : lf;
  return lf + 1;
}

/** Parses "HTTP/1.x" at pos; returns the minor version. */
function version(b: Buffer, pos: number, end: number, status: number): number {
  // "HTTP/" and the "." of "1.x"
  if (end - pos !== 8 || b[pos] !== 72 || b[pos + 1] !== 84 || b[pos + 2] !== 84 || b[pos + 3] !== 80 || b[pos + 4] !== 47 || b[pos + 6] !== 46) {
    throw new HttpParseError(status, "malformed HTTP version");
  }
  const major = b[pos + 5] - 48;
  const minor = b[pos + 7] - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) throw new HttpParseError(status, "malformed HTTP version");
  if (major !== 1) throw new HttpParseError(status === 400 ? 505 : 502, `HTTP/${major}.${minor} is not supported`);
  return minor === 0 ? 0 : 1;
}

/**
 * Parses the header lines from pos up to the empty line into m; returns nothing, throws on error.
 * Records where each canonical line (`name: value` CRLF) sits, so it can be forwarded as it is.
 */
function fields(t: string, b: Buffer, pos: number, m: HttpMessage, status: number): void {
  for (;;) {
    const next = nextLine(t, b, pos);
    const end = lineEndAt;
    if (end === pos) {
      if (next !== end + 2) m.edited = true; // bare LF ends the head: write CRLF instead
      return;
    }
    const c0 = b[pos];
    if (c0 === SP || c0 === HTAB) throw new HttpParseError(status, "obs-fold (a header line starting with whitespace)");
    let i = pos;
    while (i < end && TCHAR[b[i]] === 1) i++;
    if (i === end) throw new HttpParseError(status, `header line without ":"`);
    const c = b[i];
    if (c !== COLON) {
      throw new HttpParseError(status, c === SP || c === HTAB ? "whitespace before the colon of a header name" : `invalid byte 0x${c.toString(16).padStart(2, "0")} in a header name`);
    }
    if (i === pos) throw new HttpParseError(status, "empty header name");
    const known = knownName(b, pos, i);
    const name = known !== undefined ? known.name : t.slice(pos, i);
    let vs = i + 1;
    while (vs < end && (b[vs] === SP || b[vs] === HTAB)) vs++;
    let ve = end;
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HTAB)) ve--;
    for (let k = vs; k < ve; k++) {
      if (VALUE[b[k]] !== 1) throw new HttpParseError(status, `invalid byte 0x${b[k].toString(16).padStart(2, "0")} in the value of "${name}"`);
    }
    m.names.push(name);
    m.lower.push(known !== undefined ? known.lower : name.toLowerCase());
    m.values.push(t.slice(vs, ve));
    if (vs === i + 2 && b[i + 1] === SP && ve === end && next === end + 2) m.spans.push(pos);
    else {
      m.spans.push(-1);
      m.edited = true;
    }
    pos = next;
  }
}

/** Parses a complete request head (ending with the empty line). RFC 9112 §3. */
export function parseRequest(b: Buffer): HttpMessage {
  const m = new HttpMessage();
  const t = b.toString("latin1"); // one decode; names, values and the target are slices of it
  const next = nextLine(t, b, 0);
  const end = lineEndAt;
  let i = 0;
  while (i < end && TCHAR[b[i]] === 1) i++;
  if (i === 0 || b[i] !== SP) throw new HttpParseError(400, "invalid method");
  m.method = t.slice(0, i);
  const ts = ++i;
  while (i < end && TARGET[b[i]] === 1) i++;
  if (i === ts || b[i] !== SP) throw new HttpParseError(400, i < end && b[i] !== SP ? `invalid byte 0x${b[i].toString(16).padStart(2, "0")} in the request target` : "invalid request target");
  const target = t.slice(ts, i);
  m.minor = version(b, i + 1, end, 400);
  m.raw = b;
  fields(t, b, next, m, 400);
  m.rawTidy = !m.edited;
  semantics(m, 400);

  const hi = m.indexOf("host");
  const hostValue = hi < 0 ? undefined : m.values[hi];
  if (hi >= 0 && m.indexOf("host", hi + 1) >= 0) throw new HttpParseError(400, "more than one Host");
  if (hostValue !== undefined) m.host = hostOf(hostValue);
  else if (m.minor === 1) throw new HttpParseError(400, "missing Host in an HTTP/1.1 request"); // RFC 9112 §3.2

  const c0 = target.charCodeAt(0);
  if (c0 === 47 /* / */) {
    const q = target.indexOf("?");
    m.path = q < 0 ? target : target.slice(0, q);
    m.search = q < 0 ? "" : target.slice(q);
    if (b[end - 1] === 49 && next === end + 2) m.rawStart = next; // HTTP/1.1 CRLF
  } else if (m.method === "CONNECT") {
    hostOf(target);
    m.path = target; // authority-form, RFC 9112 §3.2.3
  } else if (target === "*") {
    if (m.method !== "OPTIONS") throw new HttpParseError(400, `asterisk-form target with ${m.method}`);
    m.path = "*";
    if (b[end - 1] === 49 && next === end + 2) m.rawStart = next; // HTTP/1.1 CRLF
  } else {
    // absolute-form, RFC 9112 §3.2.2: the target's authority must agree with Host.
    const sep = target.indexOf("://");
    const scheme = sep > 0 ? target.slice(0, sep).toLowerCase() : "";
    if (scheme !== "http" && scheme !== "https") throw new HttpParseError(400, "invalid request target");
    const a = sep + 3;
    let e = a;
    while (e < target.length && target[e] !== "/" && target[e] !== "?") e++;
    const authority = target.slice(a, e);
    if (authority.includes("@")) throw new HttpParseError(400, "userinfo in the request target");
    const host = hostOf(authority);
    if (hostValue !== undefined && normAuthority(hostValue, scheme) !== normAuthority(authority, scheme)) {
      throw new HttpParseError(400, `request target authority "${authority}" disagrees with Host "${hostValue}"`);
    }
    if (hostValue === undefined) m.add("Host", authority);
    m.host = host;
    m.absolute = true;
    const rest = target.slice(e);
    const q = rest.indexOf("?");
    m.path = q < 0 ? rest : rest.slice(0, q);
    m.search = q < 0 ? "" : rest.slice(q);
    if (m.path === "") m.path = "/";
  }
  m.rawMethod = m.method;
  m.rawPath = m.path;
  m.rawSearch = m.search;
  return m;
}

/** Parses a complete response head. RFC 9112 §4. */
export function parseResponse(b: Buffer): HttpMessage {
  const m = new HttpMessage();
  const t = b.toString("latin1");
  const next = nextLine(t, b, 0);
  const end = lineEndAt;
  m.minor = version(b, 0, Math.min(8, end), 502);
  if (end < 12 || b[8] !== SP) throw new HttpParseError(502, "malformed status line");
  const d0 = b[9] - 48;
  const d1 = b[10] - 48;
  const d2 = b[11] - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw new HttpParseError(502, "malformed status code");
  m.status = d0 * 100 + d1 * 10 + d2;
  if (end > 12) {
    if (b[12] !== SP) throw new HttpParseError(502, "malformed status line");
    for (let k = 13; k < end; k++) if (VALUE[b[k]] !== 1) throw new HttpParseError(502, "invalid byte in the reason phrase");
    m.reason = t.slice(13, end);
  }
  m.raw = b;
  // "HTTP/1.1 200" without the SP before an empty reason is rewritten with it, as before.
  if (b[7] === 49 && end > 12 && next === end + 2) m.rawStart = next;
  m.rawStatus = m.status;
  m.rawReason = m.reason;
  fields(t, b, next, m, 502);
  m.rawTidy = !m.edited;
  semantics(m, 502);
  return m;
}
