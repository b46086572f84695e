// mode http end to end: routing, rules, bodies both ways, keep-alive, pipelining, upgrade, errors, log.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, httpBackend, raw, rawBackend, startProxy, statuses } from "./http_helpers.ts";
import type { Backend, Proxy } from "./http_helpers.ts";

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  trailers: Record<string, string | undefined>;
}

function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | string[]; agent?: Agent } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), trailers: res.trailers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (Array.isArray(opts.body)) {
      for (const b of opts.body) req.write(b);
      req.end();
    } else req.end(opts.body);
  });
}

// Both read paths: a ChunkReader (the binary on Node) and 'data' events (other runtimes).
for (const chunkReader of [true, false]) describe(`mode http through the proxy (${chunkReader ? "ChunkReader" : "'data' events"})`, () => {
  let www: Backend;
  let api: Backend;
  let proxy: Proxy;
  let port: number;
  let deadPort: number;
  let junk: { port: number; close(): Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), "tandem-http-"));

  before(async () => {
    www = await httpBackend("www");
    api = await httpBackend("api");
    junk = await rawBackend((_d, s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"));
    port = await freePort();
    deadPort = await freePort();
    const errorfile = join(dir, "503.http");
    writeFileSync(errorfile, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nsorry 503");
    proxy = await startProxy(`
frontends:
  web:
    bind: 127.0.0.1:${port}
    timeout: { http_request: 300ms, http_keep_alive: 2s, client: 5s }
    forwardfor: true
    via: true
    access_log: true
    errorfiles: { 503: ${errorfile} }
    acls:
      is_api: { path_prefix: /api/ }
    use_backend:
      - { backend: queued, if: { header: x-queue } }
      - { backend: api, if: { any: [is_api, { host: api.example }] } }
      - { backend: dead, if: { path_prefix: /dead } }
      - { backend: junk, if: { path_prefix: /junk } }
      - { backend: slow, if: { path_prefix: /slow } }
    default_backend: www
    http_request:
      - { action: deny, if: { header: x-evil } }
      - { action: return, status: 200, body: pong, if: { path: /ping } }
      - { action: redirect, location: /new, code: 301, if: { path: /old } }
      - { action: set_header, name: X-Env, value: test }
    http_response:
      - { action: set_header, name: X-Served-By, value: tandem }
      - { action: del_header, name: X-Powered-By }
backends:
  www: { servers: { w1: { address: 127.0.0.1, port: ${www.port} } } }
  api: { servers: { a1: { address: 127.0.0.1, port: ${api.port} } } }
  queued: { timeout: { queue: 2s }, servers: { q1: { address: 127.0.0.1, port: ${www.port}, maxconn: 1 } } }
  dead: { retries: 1, timeout: { connect: 200ms }, servers: { d1: { address: 127.0.0.1, port: ${deadPort} } } }
  junk: { retries: 0, servers: { j1: { address: 127.0.0.1, port: ${junk.port} } } }
  slow: { timeout: { server: 150ms }, retry_on: [conn-failure], servers: { s1: { address: 127.0.0.1, port: ${www.port} } } }
`, { chunkReader });
  });

  after(async () => {
    await proxy.stop();
    await Promise.all([www.close(), api.close(), junk.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("routes by path and host, default otherwise", async () => {
    assert.equal((await get(port, "/api/users")).body, "api /api/users");
    assert.equal((await get(port, "/x", { headers: { Host: "api.example" } })).body, "api /x");
    const r = await get(port, "/index.html");
    assert.equal(r.status, 200);
    assert.equal(r.body, "www /index.html");
  });

  it("applies request and response rules, forwardfor and Via", async () => {
    const r = await get(port, "/h", { headers: { Connection: "keep-alive, X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=5" } });
    const h = www.last!.headers;
    assert.equal(h["x-env"], "test");
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-forwarded-proto"], "http");
    assert.match(String(h["x-forwarded-host"]), /^127\.0\.0\.1:\d+$/);
    assert.equal(h.via, "1.1 tandem");
    assert.equal(h["x-hop"], undefined);
    assert.equal(h["keep-alive"], undefined);
    assert.equal(r.headers["x-served-by"], "tandem");
    assert.equal(r.headers.via, "1.1 tandem");
  });

  it("answers deny, return and redirect locally", async () => {
    assert.equal((await get(port, "/", { headers: { "X-Evil": "1" } })).status, 403);
    const pong = await get(port, "/ping");
    assert.equal(pong.status, 200);
    assert.equal(pong.body, "pong");
    const red = await get(port, "/old");
    assert.equal(red.status, 301);
    assert.equal(red.headers.location, "/new");
  });

  it("streams request bodies (Content-Length and chunked) and chunked responses with trailers", async () => {
    assert.equal((await get(port, "/echo", { method: "POST", body: "hello world" })).body, "hello world");
    const chunked = await get(port, "/echo", { method: "POST", body: ["a", "b".repeat(100_000), "c"], headers: { "Transfer-Encoding": "chunked" } });
    assert.equal(chunked.body.length, 100_002);
    const r = await get(port, "/chunked");
    assert.equal(r.body, "one,two,three");
    assert.equal(r.trailers["x-sum"], "3");
    const big = await get(port, "/big?n=3000000");
    assert.equal(big.body.length, 3_000_000);
  });

  it("handles Expect: 100-continue", async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/echo", method: "POST", headers: { Expect: "100-continue", "Content-Length": "4" }, agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      });
      req.on("continue", () => req.end("data"));
      req.on("error", reject);
    });
    assert.equal(r, "data");
  });

  it("keeps a client connection alive and answers pipelined requests in order", async () => {
    const pipelined = ["/p1", "/api/p2", "/ping", "/p4"].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join("") + "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const { text, closed } = await raw(port, pipelined);
    assert.ok(closed);
    assert.deepEqual(statuses(text), [200, 200, 200, 200, 200]);
    const order = [...text.matchAll(/(www \/p1|api \/api\/p2|pong|www \/p4|www \/last)/g)].map((m) => m[1]);
    assert.deepEqual(order, ["www /p1", "api /api/p2", "pong", "www /p4", "www /last"]);
  });

  it("HTTP/1.0 gets its response and a close; keep-alive when asked", async () => {
    const a = await raw(port, "GET /ten HTTP/1.0\r\n\r\n");
    assert.ok(a.closed);
    assert.match(a.text, /^HTTP\/1\.1 200 /);
    assert.match(a.text, /www \/ten$/);
    const b = await raw(port, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 300);
    assert.match(b.text, /Connection: keep-alive/i);
    assert.equal(b.closed, false);
    // A chunked response to an HTTP/1.0 client is de-chunked and delimited by close.
    const c = await raw(port, "GET /chunked HTTP/1.0\r\n\r\n");
    assert.ok(c.closed);
    assert.match(c.text, /\r\n\r\none,two,three$/);
    assert.doesNotMatch(c.text, /Transfer-Encoding/i);
  });

  it("switches to a tunnel on Upgrade: websocket", async () => {
    const { text } = await raw(port, ["GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "ping-through-tunnel"], 500, 50);
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.match(text, /ping-through-tunnel$/);
  });

  it("queues requests over a server's maxconn and serves them in turn", async () => {
    const t0 = Date.now();
    const rs = await Promise.all([1, 2, 3].map(() => get(port, "/slow?ms=80", { headers: { "X-Queue": "1" } })));
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
    assert.ok(Date.now() - t0 >= 230, "one at a time");
    await new Promise((r) => setTimeout(r, 20));
    const waits = proxy.lines.filter((l) => l.includes(" web queued/q1 ")).map((l) => Number(/ \d+\/(\d+)\/-?\d+\/-?\d+\/\d+ /.exec(l)![1]));
    assert.equal(waits.length, 3);
    assert.ok(Math.max(...waits) >= 100, `queue times ${waits}`);
  });

  it("503 from an errorfile when the server refuses connections, after retries", async () => {
    const r = await get(port, "/dead");
    assert.equal(r.status, 503);
    assert.equal(r.body, "sorry 503");
    assert.equal(r.headers.connection, "close");
  });

  it("502 for an ambiguous response, nothing forwarded", async () => {
    const r = await raw(port, "GET /junk HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(statuses(r.text), [502]);
    assert.doesNotMatch(r.text, /Transfer-Encoding/);
  });

  it("504 when the server does not answer within timeout server", async () => {
    const r = await get(port, "/slow?ms=1000");
    assert.equal(r.status, 504);
  });

  it("408 and the connection back for a slowloris head", async () => {
    const t0 = Date.now();
    const r = await raw(port, ["GET / HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 1\r\n", "X-C: 1\r\n", "X-D: 1\r\n"], 3000, 100);
    assert.deepEqual(statuses(r.text), [408]);
    assert.ok(r.closed);
    assert.ok(Date.now() - t0 < 2000, "closed promptly");
  });

  it("writes one access-log line per request", async () => {
    const before = proxy.lines.length;
    await get(port, "/api/logged");
    await new Promise((r) => setTimeout(r, 20));
    const line = proxy.lines.slice(before).find((l) => l.includes("/api/logged"));
    assert.ok(line, proxy.lines.slice(before).join("\n"));
    assert.match(line, /\[[\w.]*web\.access\] 127\.0\.0\.1:\d+ web api\/a1 200 \d+ \d+\/\d+\/\d+\/\d+\/\d+ -- 0 "GET \/api\/logged HTTP\/1\.1"/);
  });
});
