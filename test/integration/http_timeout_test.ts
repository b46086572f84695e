// timeout client in mode http: armed only while tandem waits on the client (body, or a client that stops reading).

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { oneBackend, raw, statuses } from "./http_helpers.ts";
import type { OneBackend } from "./http_helpers.ts";

describe("timeout client", () => {
  let port: number;
  let setup: OneBackend;

  before(async () => {
    setup = await oneBackend("timeout: { client: 300ms, http_keep_alive: 600ms }");
    port = setup.port;
  });

  after(() => setup.close());

  it("a request body that stops coming gets 408 after timeout client", async () => {
    const t0 = Date.now();
    const r = await raw(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 3000);
    assert.deepEqual(statuses(r.text), [408]);
    assert.ok(r.closed);
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
  });

  it("a server that is slower than timeout client still answers (the client is not waited on)", async () => {
    const r = await raw(port, "GET /slow?ms=500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3000);
    assert.deepEqual(statuses(r.text), [200]);
    assert.match(r.text, /b slow$/);
  });

  it("an idle keep-alive connection is closed by timeout http_keep_alive, not timeout client", async () => {
    const t0 = Date.now();
    const r = await raw(port, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 3000);
    assert.deepEqual(statuses(r.text), [200]);
    assert.ok(r.closed);
    const took = Date.now() - t0;
    assert.ok(took >= 550 && took < 2000, `closed after ${took} ms`);
  });

  it("a client that stops reading a large response is cut after timeout client", async () => {
    const size = 64 * 1024 * 1024;
    const s = connect({ host: "127.0.0.1", port });
    s.on("error", () => {});
    s.pause();
    s.write(`GET /big?n=${size} HTTP/1.1\r\nHost: x\r\n\r\n`);
    // Not reading: the kernel buffers fill, the proxy stops reading the server and waits on us.
    await new Promise((r) => setTimeout(r, 1500));
    const closed = new Promise((r) => s.once("close", r));
    s.on("data", () => {});
    s.resume();
    const t0 = Date.now();
    await closed;
    assert.ok(Date.now() - t0 < 3000, "the proxy had closed the connection");
    assert.ok(s.bytesRead < size, `the whole response was not delivered (${s.bytesRead} bytes)`);
  });
});
