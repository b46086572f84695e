// Strict HTTP/1.1 parsing, case by case: heads and body framing, whole and byte by byte.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BodyDecoder, requestBodyMode, responseBodyMode } from "../../../src/proxy/http/body.ts";
import { HeadParser, HttpParseError } from "../../../src/proxy/http/parser.ts";
import type { HeadLimits } from "../../../src/proxy/http/parser.ts";
import type { HttpMessage } from "../../../src/proxy/http/message.ts";

const LIMITS: HeadLimits = { requestLine: 100, headerBytes: 600, headerCount: 10 };

interface Outcome {
  status?: number;
  method?: string;
  path?: string;
  search?: string;
  host?: string;
  code?: number;
  cl?: number;
  chunked?: boolean;
  body?: string;
  /** Bytes left after the message (pipelining). */
  after?: string;
  /** The head as it would be forwarded (requestBytes / responseBytes). */
  forwarded?: string;
}

/** Parses one message (head + body) from pieces; returns what came out or the error status. */
function run(kind: "request" | "response", pieces: Buffer[], method = "GET"): Outcome {
  const p = new HeadParser(kind, LIMITS);
  const dec = new BodyDecoder(kind === "request" ? 400 : 502);
  const out: Outcome = {};
  const body: Buffer[] = [];
  const after: Buffer[] = [];
  let head;
  try {
    for (const piece of pieces) {
      let chunk: Buffer | undefined = piece;
      if (!head) {
        head = p.push(piece);
        if (!head) continue;
        dec.reset(kind === "request" ? requestBodyMode(head) : responseBodyMode(head, method), head.contentLength);
        chunk = p.rest;
      }
      if (!chunk) continue;
      const end = dec.feed(chunk, 0, (b, s, e) => body.push(b.subarray(s, e)));
      if (end < chunk.length) after.push(chunk.subarray(end));
    }
    if (!head) return { status: 0 };
    if (!dec.done && !dec.end()) return { status: -1 };
  } catch (err) {
    if (err instanceof HttpParseError) return { status: err.status };
    throw err;
  }
  out.status = 200;
  if (kind === "request") {
    out.method = head.method;
    out.path = head.path;
    out.search = head.search;
    out.host = head.host;
  } else out.code = head.status;
  out.cl = head.contentLength;
  out.chunked = head.chunked;
  out.body = Buffer.concat(body).toString("latin1");
  out.after = Buffer.concat(after).toString("latin1");
  out.forwarded = (kind === "request" ? head.requestBytes() : head.responseBytes()).toString("latin1");
  return out;
}

const splitEvery = (b: Buffer, n: number) => {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
};

/** [name, raw message, expected status or partial outcome] */
type Case = [string, string, number | Outcome];

const H = "Host: a.example\r\n";
const REQUESTS: Case[] = [
  ["simple GET", `GET /x?y=1 HTTP/1.1\r\n${H}\r\n`, { status: 200, method: "GET", path: "/x", search: "?y=1", host: "a.example" }],
  ["bare LF line ends", `GET / HTTP/1.1\n${H.trim()}\n\n`, { status: 200, host: "a.example" }],
  ["leading empty line", `\r\nGET / HTTP/1.1\r\n${H}\r\n`, 200],
  ["too many leading empty lines", `\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n${H}\r\n`, 400],
  ["Content-Length body", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET`, { status: 200, cl: 5, body: "hello", after: "GET" }],
  ["Content-Length and Transfer-Encoding", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ["Transfer-Encoding then Content-Length", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, 400],
  ["two differing Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, 400],
  ["Content-Length list differing", `POST / HTTP/1.1\r\n${H}Content-Length: 5, 6\r\n\r\n`, 400],
  ["Content-Length list identical", `POST / HTTP/1.1\r\n${H}Content-Length: 2, 2\r\n\r\nok`, { status: 200, cl: 2, body: "ok" }],
  ["Content-Length not a number", `POST / HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, 400],
  ["Content-Length negative", `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ["Content-Length with sign", `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\n`, 400],
  ["Content-Length empty", `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`, 400],
  ["Content-Length hex", `POST / HTTP/1.1\r\n${H}Content-Length: 0x10\r\n\r\n`, 400],
  ["Content-Length overflowing", `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, 400],
  ["Transfer-Encoding gzip only", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, 400],
  ["Transfer-Encoding chunked not final", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 400],
  ["Transfer-Encoding chunked twice", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ["Transfer-Encoding in HTTP/1.0", `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n`, 400],
  ["Transfer-Encoding xchunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, 400],
  ["Transfer-Encoding empty", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\n\r\n`, 400],
  // RFC 9112 §6.1: a coding the server does not implement gets 501; requests carry chunked alone.
  ["Transfer-Encoding gzip, chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, Chunked\r\n\r\n0\r\n\r\n`, 501],
  ["Transfer-Encoding Chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`, { status: 200, chunked: true, body: "" }],
  // Whitespace is SP and HTAB only (RFC 9110 §5.6.3): NBSP (0xA0) is not trimmed (TE.TE smuggling).
  ["Transfer-Encoding chunked NBSP", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n`, 400],
  ["Transfer-Encoding NBSP chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n`, 400],
  ["Transfer-Encoding list with NBSP", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip,\xa0chunked\r\n\r\n0\r\n\r\n`, 400],
  ["Content-Length 5 NBSP", `POST / HTTP/1.1\r\n${H}Content-Length: 5\xa0\r\n\r\nhello`, 400],
  ["Content-Length NBSP 5", `POST / HTTP/1.1\r\n${H}Content-Length: \xa05\r\n\r\nhello`, 400],
  ["Content-Length list with NBSP", `POST / HTTP/1.1\r\n${H}Content-Length: 5,\xa05\r\n\r\nhello`, 400],
  ["Content-Length with a trailing tab", `POST / HTTP/1.1\r\n${H}Content-Length: 2\t\r\n\r\nok`, { status: 200, cl: 2, body: "ok" }],
  // RFC 9110 §8.6: agreeing Content-Length values go on as one field.
  ["Content-Length twice, same value", `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 2\r\n\r\nok`, { status: 200, cl: 2, body: "ok", forwarded: `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\n` }],
  ["Content-Length list forwarded as one value", `POST / HTTP/1.1\r\n${H}Content-Length: 2, 2\r\nX-A: b\r\n\r\nok`, { status: 200, cl: 2, forwarded: `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nX-A: b\r\n\r\n` }],
  ["Content-Length list with an empty element", `POST / HTTP/1.1\r\n${H}Content-Length: 2,,2\r\n\r\nok`, 400],
  ["Transfer-Encoding on two lines, unknown first", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 501],
  ["Transfer-Encoding on two lines, empty first", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ["Transfer-Encoding with a parameter on chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n`, 400],
  ["Transfer-Encoding not a token", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n`, 400],
  ["obs-fold", `GET / HTTP/1.1\r\n${H}X-A: 1\r\n  2\r\n\r\n`, 400],
  ["first header folded", `GET / HTTP/1.1\r\n ${H}\r\n`, 400],
  ["space before colon", `GET / HTTP/1.1\r\n${H}X-A : 1\r\n\r\n`, 400],
  ["tab before colon", `GET / HTTP/1.1\r\n${H}Content-Length\t: 0\r\n\r\n`, 400],
  ["NUL in value", `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, 400],
  ["bare CR in value", `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 400],
  ["control byte in value", `GET / HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`, 400],
  ["DEL in value", `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`, 400],
  ["NUL in name", `GET / HTTP/1.1\r\n${H}X\0A: 1\r\n\r\n`, 400],
  ["non-token name", `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`, 400],
  ["empty name", `GET / HTTP/1.1\r\n${H}: 1\r\n\r\n`, 400],
  ["line without colon", `GET / HTTP/1.1\r\n${H}garbage\r\n\r\n`, 400],
  ["obs-text value accepted", `GET / HTTP/1.1\r\n${H}X-A: caf\xe9\r\n\r\n`, 200],
  ["invalid method", `G@T / HTTP/1.1\r\n${H}\r\n`, 400],
  ["missing method", ` / HTTP/1.1\r\n${H}\r\n`, 400],
  ["double space", `GET  / HTTP/1.1\r\n${H}\r\n`, 400],
  ["space in target", `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ["invalid byte in target", `GET /a<b HTTP/1.1\r\n${H}\r\n`, 400],
  ["fragment in target", `GET /a#b HTTP/1.1\r\n${H}\r\n`, 400],
  ["8-bit byte in target", `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 400],
  ["target not in any form", `GET foo HTTP/1.1\r\n${H}\r\n`, 400],
  ["asterisk with GET", `GET * HTTP/1.1\r\n${H}\r\n`, 400],
  ["asterisk with OPTIONS", `OPTIONS * HTTP/1.1\r\n${H}\r\n`, { status: 200, path: "*" }],
  ["request line over the limit", `GET /${"a".repeat(120)} HTTP/1.1\r\n${H}\r\n`, 414],
  ["request line over the limit, no LF yet", `GET /${"a".repeat(120)}`, 414],
  ["too many header fields", `GET / HTTP/1.1\r\n${H}${"X-A: 1\r\n".repeat(10)}\r\n`, 431],
  ["header block too large", `GET / HTTP/1.1\r\n${H}X-A: ${"b".repeat(600)}\r\n\r\n`, 431],
  ["absolute-form disagreeing with Host", `GET http://b.example/x HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form agreeing with Host", `GET http://A.example/x?q HTTP/1.1\r\n${H}\r\n`, { status: 200, host: "a.example", path: "/x", search: "?q" }],
  ["absolute-form with default port", `GET http://a.example:80 HTTP/1.1\r\n${H}\r\n`, { status: 200, path: "/" }],
  ["absolute-form with userinfo", `GET http://u@a.example/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form with other scheme", `GET ftp://a.example/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["absolute-form without Host in 1.0", `GET http://c.example:8080/z HTTP/1.0\r\n\r\n`, { status: 200, host: "c.example", path: "/z" }],
  ["missing Host in HTTP/1.1", `GET / HTTP/1.1\r\n\r\n`, 400],
  ["no Host in HTTP/1.0", `GET / HTTP/1.0\r\n\r\n`, { status: 200, host: "" }],
  ["two Host fields", `GET / HTTP/1.1\r\n${H}${H}\r\n`, 400],
  ["Host with a slash", `GET / HTTP/1.1\r\nHost: a/b\r\n\r\n`, 400],
  ["Host with a bad port", `GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n`, 400],
  ["Host IPv6 literal", `GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n`, { status: 200, host: "[::1]" }],
  // Found by the reference-parser fuzzing: brackets belong to an IP-literal only (RFC 3986 §3.2.2).
  ["Host with a stray bracket", `GET / HTTP/1.1\r\nHost: 12]7.0.0.1:8080\r\n\r\n`, 400],
  ["Host with an opening bracket inside", `GET / HTTP/1.1\r\nHost: a[b\r\n\r\n`, 400],
  ["Host IP-literal that is no address", `GET / HTTP/1.1\r\nHost: [a@b]\r\n\r\n`, 400],
  ["HTTP/2.0 request line", `GET / HTTP/2.0\r\n${H}\r\n`, 505],
  ["malformed version", `GET / HTTP/1.1x\r\n${H}\r\n`, 400],
  ["lower-case version", `GET / http/1.1\r\n${H}\r\n`, 400],
  ["missing version", `GET /\r\n${H}\r\n`, 400],
  ["chunked body with extension and trailers", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT`, { status: 200, chunked: true, body: "hello world", after: "NEXT" }],
  ["chunk size not hex", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`, 400],
  ["chunk size with 0x", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`, 400],
  ["chunk size negative", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\n`, 400],
  ["chunk size overflowing", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${"f".repeat(17)}\r\n`, 400],
  ["chunk data without CRLF", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n`, 400],
  ["chunk size line with bare LF", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`, 400],
  ["space after chunk size without extension", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n`, 400],
  ["control byte in chunk extension", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;\0\r\nabc\r\n0\r\n\r\n`, 400],
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), RFC 9112 §7.1.1.
  ...([
    ["5;", 400], ["5; ", 400], ["5;;a", 400], ["5;=b", 400], ["5;a=", 400], ["5;a= ", 400], ["5;a=b c", 400], ["5;a ", 400],
    ["5;a=b ", 400], ['5;a="b', 400], ['5;a="b"c', 400], ["5;a=\"\x7f\"", 400], ["5;a=b\xa0", 400], ["5;a\xa0", 400], ["5;a=,", 400],
    ["5;a", 200], ["5;a;b", 200], ["5 ;a", 200], ["5\t; a = b ;c", 200], ['5;a="b c;d"', 200], ['5;a="q\\"x"', 200],
    ['5;a=""', 200], ["5;a=\"\xe9\"", 200], ['5;a="b" ;c=d', 200],
  ] as const).map(([line, status]): Case => [
    `chunk extension ${JSON.stringify(line)}`,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${line}\r\nhello\r\n0\r\n\r\n`,
    status === 200 ? { status, body: "hello" } : status,
  ]),
  // RFC 9112 §2.2: a bare CR is refused at once, also when the head is not complete yet.
  ["bare CR as the last line end", `GET / HTTP/1.1\r\n${H}\r\r\n`, 400],
  ["bare CR in a value of an incomplete head", `GET / HTTP/1.1\r\n${H}X-A: a\rb`, 400],
  ["bare CR after the request line", `GET / HTTP/1.1\r\r\n`, 400],
  ["trailer with space before colon", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T : 1\r\n\r\n`, 400],
  ["trailer with NUL", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: \0\r\n\r\n`, 400],
  ["truncated Content-Length body", `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, -1],
];

const RESPONSES: Case[] = [
  ["200 with Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", { status: 200, code: 200, body: "ok" }],
  ["status without reason", "HTTP/1.1 204\r\n\r\n", { status: 200, code: 204, body: "" }],
  ["read until close", "HTTP/1.0 200 OK\r\n\r\nall of it", { status: 200, body: "all of it" }],
  ["chunked response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", { status: 200, body: "ok" }],
  ["304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", { status: 200, code: 304, body: "" }],
  ["Content-Length and Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 502],
  ["differing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 502],
  ["Transfer-Encoding not ending in chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 502],
  ["four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 502],
  ["status below 100", "HTTP/1.1 099 Odd\r\n\r\n", 502],
  ["status 600", "HTTP/1.1 600 Odd\r\n\r\n", 502],
  ["letters as status", "HTTP/1.1 abc OK\r\n\r\n", 502],
  ["obs-fold in response", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", 502],
  ["space before colon in response", "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", 502],
  ["NUL in response value", "HTTP/1.1 200 OK\r\nX-A: \0\r\n\r\n", 502],
  ["HTTP/2 status line", "HTTP/2.0 200 OK\r\n\r\n", 502],
  ["status line over the limit", `HTTP/1.1 200 ${"O".repeat(120)}\r\n\r\n`, 502],
  ["not HTTP at all", "SSH-2.0-OpenSSH\r\n\r\n", 502],
  ["empty line before status line", "\r\nHTTP/1.1 200 OK\r\n\r\n", 502],
  ["bad chunk size in response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 502],
  ["bare CR in an incomplete response head", "HTTP/1.1 200 OK\r\n\r\r\n", 502],
  ["Content-Length NBSP in response", "HTTP/1.1 200 OK\r\nContent-Length: 2\xa0\r\n\r\nok", 502],
  ["Transfer-Encoding gzip, chunked in response", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", { status: 200, body: "ok" }],
  ["Transfer-Encoding on two lines in response: one line forwarded", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", { status: 200, body: "ok", forwarded: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" }],
  ["Content-Length twice in response: one forwarded", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", { status: 200, body: "ok", forwarded: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" }],
];

function check(kind: "request" | "response", [name, raw, want]: Case) {
  it(name, () => {
    const bytes = Buffer.from(raw, "latin1");
    const expected: Outcome = typeof want === "number" ? { status: want } : want;
    for (const pieces of [[bytes], splitEvery(bytes, 1), splitEvery(bytes, 7)]) {
      const got = run(kind, pieces);
      for (const k of Object.keys(expected) as (keyof Outcome)[]) assert.equal(got[k], expected[k], `${k} (pieces of ${pieces[0]?.length})`);
    }
  });
}

describe("HTTP request parsing", () => {
  for (const c of REQUESTS) check("request", c);
});

describe("HTTP response parsing", () => {
  for (const c of RESPONSES) check("response", c);
  it("HEAD response has no body even with Content-Length", () => {
    const got = run("response", [Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")], "HEAD");
    assert.equal(got.body, "");
  });
});

describe("head parser state", () => {
  it("parses pipelined requests one after the other", () => {
    const p = new HeadParser("request", LIMITS);
    const a = p.push(Buffer.from(`GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`));
    assert.equal(a?.path, "/1");
    const b = p.push(p.rest!);
    assert.equal(b?.path, "/2");
    assert.equal(p.rest, undefined);
    assert.equal(p.buffered, 0);
  });
  it("keeps header names as received and lower-cased", () => {
    const p = new HeadParser("request", LIMITS);
    const m = p.push(Buffer.from(`GET / HTTP/1.1\r\nHOST: x\r\nX-Mixed-Case:  v  \r\nConnection: close, X-Hop\r\n\r\n`))!;
    assert.deepEqual(m.names, ["HOST", "X-Mixed-Case", "Connection"]);
    assert.deepEqual(m.lower, ["host", "x-mixed-case", "connection"]);
    assert.equal(m.get("x-mixed-case"), "v");
    assert.equal(m.connClose, true);
    assert.deepEqual(m.connOther, ["x-hop"]);
  });
  it("re-serializes a request as HTTP/1.1 origin-form", () => {
    const p = new HeadParser("request", LIMITS);
    const m = p.push(Buffer.from(`GET http://a.example/p?q=1 HTTP/1.0\r\n\r\n`))!;
    assert.equal(m.requestHead(), "GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\n\r\n");
  });
});

describe("forwarded head bytes (received lines reused, edits spliced in)", () => {
  type Edit = [string, (m: HttpMessage) => void];
  const edits: Edit[] = [
    ["no edit", () => {}],
    ["add", (m) => m.add("X-Forwarded-For", "10.0.0.1")],
    ["delete the first", (m) => void m.delete(m.lower[0])],
    ["delete the last", (m) => void m.delete(m.lower[m.lower.length - 1])],
    ["delete one in the middle", (m) => void m.delete("connection")],
    ["set an existing", (m) => m.set("Host", "b.example")],
    ["set twice present", (m) => m.set("X-Dup", "one")],
    ["setValue to the same", (m) => m.setValue(0, m.values[0])],
    ["setValue", (m) => m.setValue(m.values.length - 1, "changed")],
    ["path", (m) => void (m.path = "/other")],
    ["status", (m) => void ((m.status = 404), (m.reason = "Not Found"))],
  ];
  const requests = [
    "GET /a?b=c HTTP/1.1\r\nHost: a.example\r\nX-Dup: 1\r\nConnection: keep-alive\r\nX-Dup: 2\r\nAccept: */*\r\n\r\n",
    "GET /a HTTP/1.1\nHost: a.example\nConnection: close\nX-Last: z\n\n",
    "GET /a HTTP/1.1\r\nHost:a.example\r\nConnection:   close  \r\nX-Last: z\r\n\r\n",
    "GET /a HTTP/1.0\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n",
    "GET /a HTTP/1.2\r\nHost: a.example\r\nConnection: keep-alive\r\n\r\n",
    "GET http://a.example/p HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n",
  ];
  const responses = [
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: keep-alive\r\nX-Dup: 1\r\n\r\n",
    "HTTP/1.1 200 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 200\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 204 No Content\nConnection: close\n\n",
  ];
  for (const [kind, heads] of [["request", requests], ["response", responses]] as const) {
    for (const head of heads) {
      for (const [name, edit] of edits) {
        it(`${kind} ${JSON.stringify(head.split(/\r?\n/)[0])}: ${name} gives the same bytes as the re-serialized head`, () => {
          const m = new HeadParser(kind, LIMITS).push(Buffer.from(head + "body", "latin1"))!;
          edit(m);
          const expected = kind === "request" ? m.requestHead() : m.responseHead();
          const bytes = kind === "request" ? m.requestBytes() : m.responseBytes();
          assert.equal(bytes.toString("latin1"), expected);
          // Asked again (a retry): still the same, although raw may have been compacted in place.
          assert.equal((kind === "request" ? m.requestBytes() : m.responseBytes()).toString("latin1"), expected);
        });
      }
    }
  }
  it("forwards an unchanged canonical head as the received bytes, without a copy", () => {
    const chunk = Buffer.from("GET /a HTTP/1.1\r\nHost: a.example\r\n\r\nnext", "latin1");
    const m = new HeadParser("request", LIMITS).push(chunk)!;
    const bytes = m.requestBytes();
    assert.equal(bytes.buffer, chunk.buffer);
    assert.equal(bytes.byteOffset, chunk.byteOffset);
    assert.equal(bytes.length, chunk.length - 4);
  });
  it("appends body bytes to a response head: a view when they follow it, a copy when edited", () => {
    const chunk = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi", "latin1");
    const p = new HeadParser("response", LIMITS);
    const m = p.push(chunk)!;
    const same = m.responseBytes(p.rest);
    assert.equal(same.buffer, chunk.buffer);
    assert.equal(same.toString("latin1"), chunk.toString("latin1"));
    m.delete("connection");
    const compacted = m.responseBytes(p.rest);
    assert.equal(compacted.toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assert.equal(compacted.buffer, chunk.buffer, "lines only removed: closed up in place");
    assert.equal(m.responseBytes(Buffer.from("xy")).toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nxy");
  });
});
