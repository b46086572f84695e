// What the fields of a head mean for framing and routing: Content-Length, Transfer-Encoding,
// Connection, Host (RFC 9110 §5.6, §7.2, §7.6.1, §8.6; RFC 9112 §6, §7).

import type { HttpMessage } from "./message.ts";
import { COLON, HOSTCHAR, HTAB, HttpParseError, SP } from "./syntax.ts";

/** v without leading and trailing OWS: SP and HTAB only (RFC 9110 §5.6.3), not JavaScript's trim() set (NBSP, VT, FF, ...). */
export function trimOws(v: string): string {
  let s = 0;
  let e = v.length;
  while (s < e && (v.charCodeAt(s) === SP || v.charCodeAt(s) === HTAB)) s++;
  while (e > s && (v.charCodeAt(e - 1) === SP || v.charCodeAt(e - 1) === HTAB)) e--;
  return s === 0 && e === v.length ? v : v.slice(s, e);
}

/** Splits a comma list, trimming OWS, dropping empty elements (RFC 9110 §5.6.1). */
export function list(v: string): string[] {
  const out: string[] = [];
  for (const part of v.split(",")) {
    const t = trimOws(part);
    if (t !== "") out.push(t);
  }
  return out;
}

/** The value of 1 to 15 ASCII digits and nothing else, else -1. */
function plainNumber(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const TOKEN = "[-!#$%&'*+.^_`|~0-9A-Za-z]+";
/** quoted-string, RFC 9110 §5.6.4: qdtext and quoted-pair, obs-text included. */
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
/** transfer-coding = token *( OWS ";" OWS transfer-parameter ), RFC 9112 §7; parameter = token BWS "=" BWS ( token / quoted-string ). */
const TRANSFER_CODING = new RegExp(`^(${TOKEN})(?:[ \\t]*;[ \\t]*${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))*$`);

/**
 * Derives framing and connection facts from the fields (RFC 9112 §6, RFC 9110 §7.6.1, §8.6).
 * What a next hop could read differently is refused or rewritten here: several Content-Length
 * values that agree become one field (RFC 9110 §8.6), several Transfer-Encoding fields one list.
 */
export function semantics(m: HttpMessage, status: number): void {
  let cl = -1;
  let clFields = 0;
  let clList = false;
  let te: string[] | undefined;
  let teFields = 0;
  const l = m.lower;
  for (let i = 0; i < l.length; i++) {
    const n = l[i];
    const v = m.values[i];
    if (n === "content-length") {
      clFields++;
      const plain = plainNumber(v);
      if (plain >= 0) {
        if (cl >= 0 && plain !== cl) throw new HttpParseError(status, "differing Content-Length values");
        cl = plain;
        continue;
      }
      // RFC 9110 §8.6: a list of identical values may be taken as one; anything else is an error.
      clList = true;
      for (const part of v.split(",")) {
        const n2 = plainNumber(trimOws(part));
        if (n2 < 0) throw new HttpParseError(status, `malformed Content-Length "${v}"`);
        if (cl >= 0 && n2 !== cl) throw new HttpParseError(status, "differing Content-Length values");
        cl = n2;
      }
    } else if (n === "transfer-encoding") {
      te ??= [];
      teFields++;
      const codings = list(v);
      if (codings.length === 0) throw new HttpParseError(status, "empty Transfer-Encoding");
      for (const c of codings) {
        if (!TRANSFER_CODING.test(c)) throw new HttpParseError(status, `malformed Transfer-Encoding "${v}"`);
        te.push(c);
      }
    } else if (n === "connection") {
      const whole = v.toLowerCase(); // the usual single option needs no split
      const options = whole === "keep-alive" || whole === "close" ? [whole] : list(whole);
      for (const t of options) {
        if (t === "close") m.connClose = true;
        else if (t === "keep-alive") m.connKeepAlive = true;
        else if (t === "upgrade") m.connUpgrade = true;
        else (m.connOther ??= []).push(t);
      }
    } else if (n === "upgrade") m.upgrade = m.upgrade === "" ? v : `${m.upgrade}, ${v}`;
    else if (n === "expect") m.expect = v.toLowerCase();
  }
  if (te !== undefined) {
    if (cl >= 0) throw new HttpParseError(status, "both Content-Length and Transfer-Encoding");
    if (m.minor === 0) throw new HttpParseError(status, "Transfer-Encoding in an HTTP/1.0 message"); // RFC 9112 §6.1
    for (let k = 0; k < te.length; k++) {
      const isChunked = te[k].toLowerCase() === "chunked";
      // RFC 9112 §6.3 item 4: chunked must be the final coding, applied once (§7).
      if (isChunked !== (k === te.length - 1)) throw new HttpParseError(status, `Transfer-Encoding "${te.join(", ")}" does not end with one chunked`);
    }
    // RFC 9112 §6.1: a server answers 501 to a transfer coding it does not implement. Requests
    // carry chunked alone (clients do not compress request framing): anything else is refused.
    if (status === 400 && te.length !== 1) throw new HttpParseError(501, `Transfer-Encoding "${te.join(", ")}" is not supported (only chunked)`);
    if (teFields > 1) m.set("Transfer-Encoding", te.join(", "));
    m.chunked = true;
  }
  if (clFields > 1 || clList) m.set("Content-Length", String(cl));
  m.contentLength = cl;
}

/** Checks a Host value (uri-host [":" port]); returns the lower-cased host without port. */
export function hostOf(v: string): string {
  if (v === "") throw new HttpParseError(400, "empty Host");
  for (let k = 0; k < v.length; k++) if (HOSTCHAR[v.charCodeAt(k)] !== 1) throw new HttpParseError(400, `invalid Host "${v}"`);
  let h = v;
  if (h.startsWith("[")) {
    // IP-literal (RFC 3986 §3.2.2): an IPv6 address in brackets.
    const e = h.indexOf("]");
    if (e < 0 || !/^\[[0-9A-Fa-f:.]+\]$/.test(h.slice(0, e + 1)) || (e + 1 < h.length && (h.charCodeAt(e + 1) !== COLON || !digits(h, e + 2)))) throw new HttpParseError(400, `invalid Host "${v}"`);
    return h.slice(0, e + 1).toLowerCase();
  }
  if (h.includes("[") || h.includes("]")) throw new HttpParseError(400, `invalid Host "${v}"`);
  const c = h.indexOf(":");
  if (c >= 0) {
    if (!digits(h, c + 1)) throw new HttpParseError(400, `invalid Host "${v}"`);
    h = h.slice(0, c);
  }
  if (h === "") throw new HttpParseError(400, `invalid Host "${v}"`);
  return h.toLowerCase();
}

/** Only ASCII digits (or nothing) from `from` to the end of s. */
function digits(s: string, from: number): boolean {
  for (let k = from; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Host with the scheme's default port removed, for comparing authorities. */
export function normAuthority(a: string, scheme: string): string {
  const t = a.toLowerCase();
  const dflt = scheme === "https" ? ":443" : ":80";
  return t.endsWith(dflt) ? t.slice(0, -dflt.length) : t.endsWith(":") ? t.slice(0, -1) : t;
}
