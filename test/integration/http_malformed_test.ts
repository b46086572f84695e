// Malformed requests over raw sockets: each is refused with its status and closed, the backend sees nothing.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort, oneBackend, raw, rawBackend, startProxy, statuses } from "./http_helpers.ts";
import type { Backend, OneBackend } from "./http_helpers.ts";

const H = "Host: x\r\n";
/** [name, bytes (one char per byte, sent as latin1), status] */
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
  ["Transfer-Encoding x, then chunked on a second line", `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 501],
  ["chunk extension without a name", `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n`, 400],
  ["chunk extension value cut short", `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=\r\nhello\r\n0\r\n\r\n`, 400],
  // RFC 9112 §2.2: answered at once (the frontend's timeout http_request is 10 s, raw() waits 2 s).
  ["bare CR before the final LF", `GET / HTTP/1.1\r\nHost: t\r\n\r\r\n`, 400],
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
      const r = await raw(port, Buffer.from(bytes, "latin1"));
      assert.deepEqual(statuses(r.text), [status], r.text);
      assert.match(r.text, /Connection: close/);
      assert.ok(r.closed, "connection closed");
      assert.equal(backend.requests, before, "nothing reached the backend");
    });
  }

  it("agreeing Content-Length values reach the server as one field (RFC 9110 §8.6)", async () => {
    for (const fields of ["Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n"]) {
      const r = await raw(port, `POST /echo HTTP/1.1\r\n${H}${fields}Connection: close\r\n\r\nhello`);
      assert.deepEqual(statuses(r.text), [200], r.text);
      assert.match(r.text, /\r\n\r\nhello$/);
      const cl = backend.last!.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i].toLowerCase() === "content-length");
      assert.deepEqual(cl, ["Content-Length"], JSON.stringify(backend.last!.rawHeaders));
      assert.equal(backend.last!.headers["content-length"], "5");
    }
  });

  it("a bad request after a good one on the same connection: first answered, then 400 and close", async () => {
    const r = await raw(port, `GET /ok HTTP/1.1\r\n${H}\r\nGET / HTTP/1.1\r\n${H}Bad Name: 1\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200, 400]);
    assert.ok(r.closed);
  });
});

/**
 * Framing a lenient server reads differently: sent through the proxy to a server that records the
 * bytes and answers every head it sees (as a server that strips 0xA0 would). The proxy answers 400
 * and the server sees nothing: no second request is smuggled in.
 */
const SMUGGLING: [string, string][] = [
  ["Transfer-Encoding: chunked NBSP (TE.TE)", `POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n`],
  ["Transfer-Encoding: NBSP chunked", `POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n`],
  ["Content-Length: 5 NBSP", `POST /x HTTP/1.1\r\n${H}Content-Length: 5\xa0\r\n\r\nhello`],
  ["Content-Length: NBSP 5", `POST /x HTTP/1.1\r\n${H}Content-Length: \xa05\r\n\r\nhello`],
];

describe("smuggling attempts in front of a recording server", () => {
  let seen: string[] = [];
  let server: { port: number; close(): Promise<void> };
  let port: number;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  before(async () => {
    server = await rawBackend((data, s) => {
      seen.push(data);
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    port = await freePort();
    proxy = await startProxy(`
frontends:
  web: { bind: 127.0.0.1:${port}, default_backend: b }
backends:
  b: { servers: { s1: { address: 127.0.0.1, port: ${server.port} } } }
`);
  });

  after(async () => {
    await proxy.stop();
    await server.close();
  });

  for (const [name, bytes] of SMUGGLING) {
    it(`${name} → 400, the server sees nothing`, async () => {
      seen = [];
      const r = await raw(port, Buffer.from(bytes, "latin1"), 1000);
      assert.deepEqual(statuses(r.text), [400], r.text);
      assert.ok(r.closed, "connection closed");
      assert.deepEqual(seen, []);
    });
  }
});

/**
 * h2c smuggling: a server that accepts `Upgrade: h2c` turns the connection into a tunnel that no
 * rule sees again. tandem takes h2c out of the request (RFC 9113 §3.1) unless the frontend sets
 * allow_h2c_upgrade, and relays a 101 only to a protocol the request offered (RFC 9110 §7.8).
 */
describe("Upgrade: h2c in front of a server that accepts it", () => {
  const heads: string[] = [];
  let server: { port: number; close(): Promise<void> };
  let port: number;
  let allowPort: number;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const H2C = `GET / HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`;

  before(async () => {
    server = await rawBackend((data, s) => {
      heads.push(data);
      // Switches to whatever the request names, h2c included (and to h2c when asked for /sneaky).
      const want = /^upgrade: *(\S+)/im.exec(data)?.[1] ?? (data.includes("/sneaky") ? "h2c" : undefined);
      if (want) s.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${data.includes("/sneaky") ? "h2c" : want}\r\n\r\n`);
      else s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    port = await freePort();
    allowPort = await freePort();
    proxy = await startProxy(`
frontends:
  web: { bind: 127.0.0.1:${port}, default_backend: b }
  loose: { bind: 127.0.0.1:${allowPort}, default_backend: b, allow_h2c_upgrade: true }
backends:
  b: { servers: { s1: { address: 127.0.0.1, port: ${server.port} } } }
`);
  });

  after(async () => {
    await proxy.stop();
    await server.close();
  });

  it("by default the request goes on without Upgrade and HTTP2-Settings, and is answered as HTTP/1.1", async () => {
    heads.length = 0;
    const r = await raw(port, H2C, 500);
    assert.deepEqual(statuses(r.text), [200], r.text);
    assert.equal(heads.length, 1);
    assert.doesNotMatch(heads[0], /upgrade|http2-settings/i);
  });

  it("a 101 to h2c when the request offered websocket is refused with 502", async () => {
    const r = await raw(port, `GET /sneaky HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket, h2c\r\n\r\n`, 500);
    assert.deepEqual(statuses(r.text), [502], r.text);
  });

  it("allow_h2c_upgrade: true relays the upgrade", async () => {
    heads.length = 0;
    const r = await raw(allowPort, H2C, 500);
    assert.deepEqual(statuses(r.text), [101], r.text);
    assert.match(heads[0], /^Upgrade: h2c\r$/im);
  });
});
