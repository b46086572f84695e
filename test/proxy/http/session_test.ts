// The mode-http session's logic without a socket: an in-memory transport for client and servers,
// and a fake clock for http_request, so keep-alive, pipelining, retries and timeouts run at once.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/core/clock.ts";
import { EventBus } from "../../../src/core/events.ts";
import { nullLogger } from "../../../src/core/log.ts";
import type { SubsystemContext } from "../../../src/core/subsystem.ts";
import { httpSession } from "../../../src/proxy/http/session.ts";
import { createProxySubsystem } from "../../../src/proxy/subsystem.ts";
import type { ProxySubsystemConfig } from "../../../src/proxy/config_types.ts";
import { MemoryTransport } from "../../helpers/memory_transport.ts";
import type { MemoryConn } from "../../helpers/memory_transport.ts";
import { backend, config, frontend, server } from "../fixtures.ts";

const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const s of stops.reverse()) await s();
});

const tick = () => new Promise((r) => setImmediate(r));

/** An in-memory HTTP/1.1 server: answers each request head with `answer`, counting what it saw. */
async function memoryServer(t: MemoryTransport, port: number, answer: (path: string, nth: number, conn: MemoryConn) => string | undefined) {
  const seen = { connections: 0, requests: [] as string[] };
  await t.listen({ host: "127.0.0.1", port, backlog: 8, acceptors: 1, reusePort: false }, {
    connection: (c) => {
      const conn = c as MemoryConn;
      seen.connections++;
      let buf = "";
      let nth = 0;
      conn.on("data", (d: Buffer) => {
        buf += d.toString("latin1");
        for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          const path = head.split(" ")[1];
          seen.requests.push(path);
          const out = answer(path, ++nth, conn);
          if (out === undefined) conn.destroy();
          else conn.write(out);
        }
      });
      conn.on("error", () => {});
      conn.resume();
    },
    readers: () => false,
    error: () => {},
  });
  return seen;
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** A proxy with one http frontend on memory port 80 in front of servers on memory ports. */
async function proxy(servers: number[], over: { retries?: number; httpRequest?: number } = {}) {
  const t = new MemoryTransport();
  const clock = new FakeClock();
  const fe = frontend("web", ["127.0.0.1:80"], { mode: "http", defaultBackend: "app" });
  if (over.httpRequest !== undefined) fe.timeouts.httpRequest = over.httpRequest;
  fe.httpRequest = [{ action: "return", status: 200, body: "local", if: { path: ["/local"], match: "exact" } }];
  const be = backend("app", servers.map((p, i) => server(`s${i}`, p)), { mode: "http", retries: over.retries ?? 3, retryOn: ["conn-failure", "empty-response"] });
  const cfg: ProxySubsystemConfig = config([fe], [be]);
  const ctx: SubsystemContext<ProxySubsystemConfig> = { config: cfg, bus: new EventBus(), clock, log: nullLogger, services: {} };
  const p = createProxySubsystem(ctx, { handlers: { http: httpSession }, transport: t });
  await p.start();
  // Closing connections linger on the fake clock: move it on until the stop is through.
  stops.push(async () => {
    let done = false;
    const stopped = p.stop("test over").then(() => (done = true));
    while (!done) {
      clock.advance(1_000);
      await tick();
    }
    await stopped;
  });
  return { t, clock, connect: () => t.connect(80) };
}

/** Collects what the client receives; resolves `responses(n)` once n status lines arrived. */
function reader(c: MemoryConn) {
  let text = "";
  let closed = false;
  c.on("data", (d: Buffer) => (text += d.toString("latin1")));
  c.on("close", () => (closed = true));
  c.on("error", () => {});
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    async responses(n: number): Promise<string[]> {
      const heads = /HTTP\/1\.1 \d{3} /g;
      for (let i = 0; i < 200 && (text.match(heads) ?? []).length < n; i++) await tick();
      return text.split(/(?=HTTP\/1\.1 \d{3} )/).filter((x) => x.startsWith("HTTP/1.1 "));
    },
  };
}

describe("http session (in memory)", () => {
  it("keep-alive: two requests on one client connection share one server connection", async () => {
    const p = await proxy([9001]);
    const seen = await memoryServer(p.t, 9001, (path) => ok(path));
    const c = p.connect();
    const r = reader(c);
    c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await r.responses(1)).length, 1);
    c.write("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    const res = await r.responses(2);
    assert.match(res[0], /\r\n\r\n\/a$/);
    assert.match(res[1], /\r\n\r\n\/b$/);
    assert.deepEqual(seen.requests, ["/a", "/b"]);
    assert.equal(seen.connections, 1);
  });

  it("pipelining: requests sent in one write are answered in order", async () => {
    const p = await proxy([9001]);
    await memoryServer(p.t, 9001, (path) => ok(path));
    const c = p.connect();
    const r = reader(c);
    c.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /local HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    const res = await r.responses(3);
    assert.deepEqual(res.map((x) => x.split("\r\n\r\n")[1]), ["/1", "local", "/3"]);
  });

  it("a rule's answer needs no server connection", async () => {
    const p = await proxy([9001]);
    const c = p.connect();
    const r = reader(c);
    c.write("GET /local HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match((await r.responses(1))[0], /^HTTP\/1\.1 200 OK\r\n[\s\S]*local$/);
    assert.equal(p.t.dials.size, 0);
  });

  it("a head that does not arrive within timeout http_request gets 408 (fake clock, no waiting)", async () => {
    const p = await proxy([9001], { httpRequest: 10_000 });
    const c = p.connect();
    const r = reader(c);
    c.write("GET /slow HTTP/1.1\r\nHo");
    await tick();
    p.clock.advance(9_000);
    await tick();
    assert.equal(r.text, "");
    p.clock.advance(1_000);
    const res = await r.responses(1);
    assert.match(res[0], /^HTTP\/1\.1 408 /);
  });

  it("an empty response on a reused connection is retried on a new one: the client sees no error", async () => {
    const p = await proxy([9001]);
    // Each server connection answers its first request and drops the second without a word.
    const seen = await memoryServer(p.t, 9001, (path, nth) => (nth === 1 ? ok(path) : undefined));
    const c = p.connect();
    const r = reader(c);
    c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    await r.responses(1);
    c.write("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    const res = await r.responses(2);
    assert.match(res[1], /^HTTP\/1\.1 200 OK[\s\S]*\/b$/);
    assert.equal(seen.connections, 2);
  });

  it("a server that refuses every attempt gets 503 after the retries", async () => {
    const p = await proxy([9002], { retries: 2 });
    const c = p.connect();
    const r = reader(c);
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match((await r.responses(1))[0], /^HTTP\/1\.1 503 /);
    assert.equal(p.t.dials.get(9002), 3);
  });
});
