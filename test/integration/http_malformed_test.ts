// Malformed requests over raw sockets: each is refused with its status and closed, the backend sees nothing.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { oneBackend, raw, statuses } from "./http_helpers.ts";
import type { Backend, OneBackend } from "./http_helpers.ts";

const H = "Host: x\r\n";
/** [name, bytes, status] */
const CASES: [string, string, number][] = [
  ["Content-Length with Transfer-Encoding (smuggling)", `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`, 400],
  ["differing Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, 400],
  ["malformed Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: 1_0\r\n\r\n`, 400],
  ["Transfer-Encoding not ending in chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n`, 400],
  ["bad chunk size", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfoo\r\n`, 400],
  ["overflowing chunk size", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n`, 400],
  ["obs-fold", `GET / HTTP/1.1\r\n${H}X-A: 1\r\n\t2\r\n\r\n`, 400],
  ["whitespace before colon", `GET / HTTP/1.1\r\nHost : x\r\n\r\n`, 400],
  ["NUL in a value", `GET / HTTP/1.1\r\n${H}X-A: \0\r\n\r\n`, 400],
  ["LF inside a value via bare CR", `GET / HTTP/1.1\r\n${H}X-A: a\rX-B: b\r\n\r\n`, 400],
  ["invalid method", `GE(T / HTTP/1.1\r\n${H}\r\n`, 400],
  ["invalid target", `GET /a\x7fb HTTP/1.1\r\n${H}\r\n`, 400],
  ["request line over the limit", `GET /${"a".repeat(300)} HTTP/1.1\r\n${H}\r\n`, 414],
  ["too many header fields", `GET / HTTP/1.1\r\n${H}${"X-A: 1\r\n".repeat(20)}\r\n`, 431],
  ["header block too large", `GET / HTTP/1.1\r\n${H}X-A: ${"v".repeat(2000)}\r\n\r\n`, 431],
  ["absolute-form disagreeing with Host", `GET http://other.example/ HTTP/1.1\r\n${H}\r\n`, 400],
  ["missing Host", `GET / HTTP/1.1\r\n\r\n`, 400],
  ["HTTP/2 preface", `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, 505],
  ["CONNECT", `CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n`, 501],
  ["unknown Expect", `GET / HTTP/1.1\r\n${H}Expect: magic\r\n\r\n`, 417],
];

describe("malformed requests over raw sockets", () => {
  let backend: Backend;
  let port: number;
  let setup: OneBackend;

  before(async () => {
    setup = await oneBackend("limits: { request_line: 256, header_bytes: 1024, header_count: 10 }");
    ({ backend, port } = setup);
  });

  after(() => setup.close());

  for (const [name, bytes, status] of CASES) {
    it(`${name} → ${status}`, async () => {
      const before = backend.requests;
      const r = await raw(port, bytes);
      assert.deepEqual(statuses(r.text), [status], r.text);
      assert.match(r.text, /Connection: close/);
      assert.ok(r.closed, "connection closed");
      assert.equal(backend.requests, before, "nothing reached the backend");
    });
  }

  it("a bad request after a good one on the same connection: first answered, then 400 and close", async () => {
    const r = await raw(port, `GET /ok HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}Bad Name: 1\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200, 400]);
    assert.ok(r.closed);
  });
});
