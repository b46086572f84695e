// A response that comes before the request body is complete: the rest of the body is drained (up to limits.drain_body) and the connection stays.

import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { freePort, rawBackend, startProxy, statuses } from "./http_helpers.ts";
import type { Proxy } from "./http_helpers.ts";

/** A client connection that collects what it receives and can wait for the n-th response. */
class Client {
  readonly socket: Socket;
  text = "";
  closed = false;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1" });
    this.socket.on("data", (d: Buffer) => (this.text += d.toString("latin1")));
    this.socket.on("error", () => {});
    this.socket.on("close", () => (this.closed = true));
  }

  /** Waits until n complete responses (each with Content-Length) arrived, the connection closed, or ms passed. */
  async responses(n: number, ms = 5000): Promise<number[]> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && !this.closed && !complete(this.text, n)) await sleep(10);
    return statuses(this.text);
  }

  /** Writes the pieces with a pause between them; stops when the connection closed. */
  async trickle(pieces: string[], gap: number): Promise<void> {
    for (const p of pieces) {
      if (this.closed) return;
      this.socket.write(p);
      await sleep(gap);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when text holds n responses whose bodies (Content-Length) are complete. */
function complete(text: string, n: number): boolean {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return false;
    const cl = /content-length: *(\d+)/i.exec(text.slice(at, end));
    at = end + 4 + (cl ? Number(cl[1]) : 0);
    if (at > text.length) return false;
  }
  return true;
}

const chunks = (n: number, size: number, c = "x") => Array.from({ length: n }, () => c.repeat(size));

describe("responses that come before the request body (drain)", () => {
  let proxy: Proxy;
  let port: number;
  let server: { port: number; close(): Promise<void> };

  before(async () => {
    // Answers /upload at once, from the head (a server refusing an upload early), anything else with 200.
    server = await rawBackend((data, s) => {
      const path = data.split(" ")[1];
      if (path === "/upload") s.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbig!");
      else s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
    });
    port = await freePort();
    proxy = await startProxy(`
frontends:
  web:
    bind: 127.0.0.1:${port}
    timeout: { client: 5s }
    limits: { drain_body: 4k }
    http_request:
      - { action: deny, if: { path: /denied } }
    default_backend: b
backends:
  b: { servers: { s1: { address: 127.0.0.1, port: ${server.port} } } }
`);
  });

  after(async () => {
    await proxy.stop();
    await server.close();
  });

  it("200 slow POSTs answered early: each connection drains its body, stays open and serves the next request", async () => {
    const clients = Array.from({ length: 200 }, () => new Client(port));
    await Promise.all(clients.map(async (c) => {
      c.socket.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + "x".repeat(100));
      assert.deepEqual(await c.responses(1), [413]);
      // The rest of the body comes slowly, over 2 s (the old behaviour closed after 1 s).
      await c.trickle(chunks(19, 100), 100);
      c.socket.write("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
      await c.responses(2);
    }));
    const kept = clients.filter((c) => !c.closed && complete(c.text, 2));
    for (const c of clients) c.socket.destroy();
    assert.equal(kept.length, 200, `connections that served the next request: ${kept.length}; one of the others: ${JSON.stringify(clients.find((c) => !kept.includes(c))?.text)}`);
    for (const c of kept) {
      assert.deepEqual(statuses(c.text), [413, 200]);
      assert.doesNotMatch(c.text, /Connection: close/i);
      assert.match(c.text, /\/after$/);
    }
  });

  it("a chunked body is drained to its last chunk; a pipelined request after it is served", async () => {
    const c = new Client(port);
    c.socket.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + "y".repeat(16) + "\r\n");
    assert.deepEqual(await c.responses(1), [413]);
    await c.trickle(["5;ext=1\r\nhello\r\n", "0\r\nX-Trailer: t\r\n\r\n" + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"], 50);
    assert.deepEqual(await c.responses(2), [413, 200]);
    assert.match(c.text, /\/next$/);
    c.socket.destroy();
  });

  it("a local answer (deny) before the body drains it too", async () => {
    const c = new Client(port);
    c.socket.write("POST /denied HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n");
    assert.deepEqual(await c.responses(1), [403]);
    await c.trickle(chunks(3, 100), 50);
    c.socket.write("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(await c.responses(2), [403, 200]);
    c.socket.destroy();
  });

  it("a Content-Length body beyond limits.drain_body: the early response says Connection: close and the connection closes", async () => {
    const c = new Client(port);
    c.socket.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(100));
    assert.deepEqual(await c.responses(1), [413]);
    assert.match(c.text, /Connection: close/i);
    await c.trickle(chunks(40, 100), 50);
    assert.equal(c.closed, true);
  });

  it("a chunked body that goes past limits.drain_body while drained closes the connection", async () => {
    const c = new Client(port);
    c.socket.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert.deepEqual(await c.responses(1), [413]);
    await c.trickle(chunks(60, 1, "400\r\n" + "z".repeat(1024) + "\r\n"), 20);
    assert.equal(c.closed, true);
    assert.deepEqual(statuses(c.text), [413]);
  });
});
