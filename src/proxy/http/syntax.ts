// The syntax HTTP/1.1 heads are made of: character classes (RFC 9110 §5.5, §5.6.2; RFC 3986) and
// the error a message that must not be forwarded raises.

import { TandemError } from "../../core/errors.ts";

/**
 * A message that must not be forwarded. `status` is what the peer gets: 400/414/431/501/505 for
 * requests, 502 for responses. The message says what was wrong, for the log.
 */
export class HttpParseError extends TandemError {
  readonly status: number;
  constructor(status: number, message: string) {
    super("E_HTTP_PARSE", message);
    this.name = "HttpParseError";
    this.status = status;
  }
}

/** Size limits of one head; `requestLine` also bounds a status line. */
export interface HeadLimits {
  requestLine: number;
  headerBytes: number;
  headerCount: number;
}

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** tchar, RFC 9110 §5.6.2. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = TCHAR[c + 32] = 1;

/** field-vchar / SP / HTAB / obs-text, RFC 9110 §5.5: anything but CTL (except HTAB) and DEL. */
export const VALUE = new Uint8Array(256);
VALUE[HTAB] = 1;
for (let c = 32; c < 256; c++) VALUE[c] = c === 127 ? 0 : 1;

/** Bytes allowed in a request-target: visible ASCII that RFC 3986 allows ("#" and `"<>\^`{|}` are not). */
export const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;
for (const c of '#"<>\\^`{|}') TARGET[c.charCodeAt(0)] = 0;

/** Bytes of uri-host [":" port] (RFC 3986 §3.2.2: reg-name, IP-literal, pct-encoded). */
export const HOSTCHAR = new Uint8Array(256);
for (const c of "-._~!$&'()*+,;=%:[]") HOSTCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) HOSTCHAR[c] = 1;
for (let c = 65; c <= 90; c++) HOSTCHAR[c] = HOSTCHAR[c + 32] = 1;
