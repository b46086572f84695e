// HTTP/2 header lists to HTTP/1.1 heads and back (RFC 9113 §8.2-§8.3).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { H2RequestError, requestFromH2, responseToH2 } from "../../../src/proxy/h2/headers.ts";
import { HeadParser } from "../../../src/proxy/http/parser.ts";

const base = [":method", "GET", ":scheme", "https", ":authority", "A.test:8443", ":path", "/p?q=1"];

describe("requestFromH2", () => {
  it("builds an HTTP/1.1 request: Host from :authority, cookies joined, te: trailers dropped", () => {
    const m = requestFromH2([...base, "cookie", "a=1", "user-agent", "t", "cookie", "b=2", "te", "trailers"], false);
    assert.equal(m.requestBytes().toString(), "GET /p?q=1 HTTP/1.1\r\nHost: A.test:8443\r\nuser-agent: t\r\ncookie: a=1; b=2\r\n\r\n");
    assert.deepEqual([m.host, m.path, m.search, m.method], ["a.test", "/p", "?q=1", "GET"]);
  });

  it("a body without content-length goes chunked; with one, as it is", () => {
    assert.match(requestFromH2([...base], true).requestBytes().toString(), /Transfer-Encoding: chunked/);
    const m = requestFromH2([...base, "content-length", "5"], true);
    assert.equal(m.contentLength, 5);
    assert.equal(m.chunked, false);
  });

  it("refuses what RFC 9113 §8.1.1 calls malformed", () => {
    const bad: [string[], number][] = [
      [[...base, "connection", "close"], 400],
      [[...base, "Upper", "x"], 400],
      [[...base, "transfer-encoding", "chunked"], 400],
      [[":method", "GET", ":scheme", "https", ":path", "noslash"], 400],
      [[":method", "CONNECT", ":authority", "x:443"], 501],
      [[":scheme", "https", ":path", "/"], 400],
      [[...base, ":weird", "1"], 400],
      [[...base, "content-length", "abc"], 400],
      [[...base, "x", "a\u0000b"], 400],
    ];
    for (const [raw, status] of bad) assert.throws(() => requestFromH2(raw, false), (e: H2RequestError) => e.status === status, raw.join(" "));
  });
});

describe("responseToH2", () => {
  it("lower-cases names, drops connection-specific fields and those Connection names, lists repeats", () => {
    const p = new HeadParser("response", { requestLine: 8192, headerBytes: 65536, headerCount: 100 });
    const res = p.push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nKeep-Alive: timeout=5\r\n\r\n"))!;
    assert.deepEqual(responseToH2(res), { ":status": 200, "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] });
  });
});
