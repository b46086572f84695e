// Server connection reuse (http_reuse) and a backend dying under a bounded GET load without client errors.

import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import type { Socket } from "node:net";
import { after, describe, it } from "node:test";
import { freePort, httpBackend, oneBackend, startProxy } from "./http_helpers.ts";
import type { Backend, Proxy } from "./http_helpers.ts";

function get(port: number, path: string, agent: Agent | false, method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(reuse: "safe" | "never"): Promise<{ b: Backend; port: number; proxy: Proxy }> {
  const s = await oneBackend("", `http_reuse: ${reuse}, `);
  cleanups.push(s.close);
  return { b: s.backend, port: s.port, proxy: s.proxy };
}

describe("server connection reuse", () => {
  it("a keep-alive client's requests share one server connection", async () => {
    const { b, port } = await setup("safe");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) assert.equal((await get(port, `/k${i}`, agent)).status, 200);
    agent.destroy();
    assert.equal(b.requests, 20);
    assert.equal(b.connections, 1);
  });

  it("new client connections reuse idle server connections for GETs", async () => {
    const { b, port } = await setup("safe");
    for (let i = 0; i < 20; i++) assert.equal((await get(port, `/n${i}`, false)).status, 200);
    assert.equal(b.requests, 20);
    assert.ok(b.connections <= 2, `${b.connections} server connections for 20 client connections`);
  });

  it("the first request of a session is not sent on a reused connection unless it can be retried", async () => {
    const { b, port } = await setup("safe");
    for (let i = 0; i < 5; i++) assert.equal((await get(port, `/d${i}`, false, "POST")).status, 200);
    assert.equal(b.connections, 5);
  });

  it("stop closes idle keep-alive clients at once, not after the grace period", async () => {
    const { port, proxy } = await setup("safe");
    const agents = Array.from({ length: 3 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const sockets: Socket[] = [];
    for (const agent of agents) {
      agent.on("free", (s: Socket) => sockets.includes(s) || sockets.push(s));
      assert.equal((await get(port, "/idle", agent)).status, 200);
    }
    assert.equal(sockets.length, 3);
    const closed = Promise.all(sockets.map((s) => new Promise((r) => s.once("close", r))));
    const t0 = Date.now();
    await proxy.stop();
    await closed;
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    for (const agent of agents) agent.destroy();
  });

  it("http_reuse: never opens one server connection per request", async () => {
    const { b, port } = await setup("never");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 10; i++) assert.equal((await get(port, `/v${i}`, agent)).status, 200);
    agent.destroy();
    assert.equal(b.connections, 10);
  });

  it("a server's byte counters keep the bytes of its closed connections (they never go down)", async () => {
    const { port, proxy } = await setup("never");
    type Srv = { bytesIn: number; bytesOut: number };
    const server = (): Srv => (proxy.status() as { backends: { name: string; servers: Srv[] }[] }).backends.find((x) => x.name === "b")!.servers[0];
    let last = { bytesIn: 0, bytesOut: 0 };
    for (let i = 0; i < 5; i++) {
      assert.equal((await get(port, `/b${i}`, false)).status, 200);
      await new Promise((r) => setTimeout(r, 50)); // the server connection of that request closes
      const now = server();
      assert.ok(now.bytesIn > last.bytesIn && now.bytesOut > last.bytesOut, `after request ${i}: ${JSON.stringify(now)} after ${JSON.stringify(last)}`);
      last = now;
    }
  });
});

describe("a backend killed under load", () => {
  it("costs no client error for GET and HEAD", async () => {
    const a = await httpBackend("a");
    const b = await httpBackend("b");
    const port = await freePort();
    const proxy = await startProxy(`
frontends:
  web: { bind: 127.0.0.1:${port}, default_backend: pool, access_log: true }
backends:
  pool:
    balance: roundrobin
    redispatch: true
    retries: 3
    timeout: { connect: 300ms }
    servers:
      a: { address: 127.0.0.1, port: ${a.port}, check: { interval: 100ms, rise: 1, fall: 1 } }
      b: { address: 127.0.0.1, port: ${b.port}, check: { interval: 100ms, rise: 1, fall: 1 } }
`);
    cleanups.push(() => proxy.stop(), () => b.close());
    // Kill "a" the way a crashing process would: stop listening, reset every connection.
    const aSockets = new Set<Socket>();
    a.server.on("connection", (s: Socket) => {
      aSockets.add(s);
      s.on("close", () => aSockets.delete(s));
    });
    const workers = 8;
    const perWorker = 40;
    let done = 0;
    let killed = false;
    const failures: string[] = [];
    const seen = new Set<string>();
    const deadline = Date.now() + 15_000;
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; i < perWorker && Date.now() < deadline; i++) {
          const method = i % 5 === 4 ? "HEAD" : "GET";
          try {
            const r = await get(port, `/slow?ms=${5 + (i % 3) * 5}&w=${w}`, agent, method);
            if (r.status !== 200) failures.push(`${method} ${r.status} ${r.body.slice(0, 80)}`);
            else if (method === "GET") seen.add(r.body.split(" ")[0]);
          } catch (err) {
            failures.push(`${method} ${(err as Error).message}`);
          }
          if (++done === Math.floor((workers * perWorker) / 3) && !killed) {
            killed = true;
            a.server.close();
            for (const s of aSockets) s.resetAndDestroy();
          }
        }
        agent.destroy();
      }),
    );
    assert.ok(killed);
    assert.deepEqual(failures, []);
    assert.equal(done, workers * perWorker);
    assert.ok(seen.has("b"));
    // The kill did hit requests: some needed more than one attempt.
    const retried = proxy.lines.filter((l) => / -- [1-9]\d* "/.test(l));
    assert.ok(retried.length > 0, "some requests were retried");
  });
});
