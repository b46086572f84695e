// The built binary as a proxy: the seed's L4 shape (port-less servers, many binds, stick on src) and HTTP routing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createNetServer } from "node:net";
import type { Server } from "node:net";
import { createServer as createHttpServer, request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../notify/smtp_fixture.ts";
import { runTandem, TandemProcess } from "../helpers/binary.ts";
import { firstLine, listen } from "../helpers/net.ts";

/** The first line the server at 127.0.0.1:port sends. */
const greet = (port: number) => firstLine(port);

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d) => (body += d)).on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("L4 like the seed: several binds, port-less servers, stick on src, redispatch when the server dies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-l4-"));
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  // Three "CAS" servers on their own loopback addresses, each answering on every proxied port.
  const servers: Server[] = [];
  for (const [i, host] of ["127.0.0.2", "127.0.0.3", "127.0.0.4"].entries()) {
    for (const port of [p1, p2, p3]) {
      const s = createNetServer((c) => {
        c.on("error", () => {});
        c.end(`CAS${i}:${port}\n`);
      });
      await listen(s, port, host);
      servers.push(s);
    }
  }
  const file = join(dir, "t.yaml");
  writeFileSync(file, `
global: { state_dir: ${dir} }
defaults:
  mode: http
  timeout: { connect: 1000, client: 30s, server: 30s }
proxies:
  Exchange:
    mode: tcp
    bind:
      - 127.0.0.1:${p1}
      - 127.0.0.1:${p2},${p3}
    balance: roundrobin
    stick: { on: src, type: ip, size: 10k, expire: 30m }
    redispatch: true
    servers:
      CAS0: { address: 127.0.0.2, check: { port: ${p1}, interval: 100ms, rise: 1, fall: 2 } }
      CAS1: { address: 127.0.0.3, check: { port: ${p1}, interval: 100ms, rise: 1, fall: 2 } }
      CAS2: { address: 127.0.0.4, check: { port: ${p1}, interval: 100ms, rise: 1, fall: 2 } }
`);
  const p = new TandemProcess(["--config", file, "--role", "backup"]);
  try {
    await p.waitFor(/tandem started/);
    // Every bind answers, on the client's own port.
    for (const port of [p1, p2, p3]) assert.match(await greet(port), new RegExp(`^CAS\\d:${port}$`));
    // One client address sticks to one server.
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add((await greet([p1, p2, p3][i % 3])).split(":")[0]);
    assert.equal(seen.size, 1, `stuck to one server, saw ${[...seen]}`);
    const stuck = [...seen][0];
    // That server dies: after fall checks the client is redispatched, and sticks to the new one.
    const index = Number(stuck.slice(3));
    for (const s of servers.slice(index * 3, index * 3 + 3)) s.close();
    await p.waitFor(new RegExp(`server\\.down proxy=Exchange server=${stuck}`), 5000);
    const after = new Set<string>();
    for (let i = 0; i < 6; i++) after.add((await greet(p1)).split(":")[0]);
    assert.equal(after.size, 1);
    assert.notEqual([...after][0], stuck);
  } finally {
    await p.stop();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("HTTP routing, header rules and `tandem route` from the binary", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-l7-"));
  const [front, apiPort, staticPort] = [await freePort(), await freePort(), await freePort()];
  const backend = (name: string) => createHttpServer((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`${name} ${req.url} env=${req.headers["x-env"]} xff=${req.headers["x-forwarded-for"]}\n`);
  });
  const api = backend("api");
  const stat = backend("static");
  await listen(api as unknown as Server, apiPort, "127.0.0.1");
  await listen(stat as unknown as Server, staticPort, "127.0.0.1");
  const file = join(dir, "t.yaml");
  writeFileSync(file, `
global: { state_dir: ${dir} }
frontends:
  www:
    bind: 127.0.0.1:${front}
    forwardfor: true
    acls:
      is_api: { path_prefix: /api }
    use_backend:
      - { backend: api, if: is_api }
    http_request:
      - { action: set_header, name: X-Env, value: test }
      - { action: deny, status: 403, if: { path: /admin } }
    http_response:
      - { action: set_header, name: X-Served-By, value: tandem }
    default_backend: static
backends:
  api: { servers: { a: { address: 127.0.0.1, port: ${apiPort} } } }
  static: { servers: { s: { address: 127.0.0.1, port: ${staticPort} } } }
`);
  const p = new TandemProcess(["--config", file, "--role", "master"]);
  try {
    await p.waitFor(/tandem started/);
    const a = await get(front, "/api/users");
    assert.equal(a.status, 200);
    assert.equal(a.body, "api /api/users env=test xff=127.0.0.1\n");
    assert.equal(a.headers["x-served-by"], "tandem");
    assert.equal((await get(front, "/index.html")).body, "static /index.html env=test xff=127.0.0.1\n");
    assert.equal((await get(front, "/admin")).status, 403);
    const r = runTandem(["route", "--config", file, "GET", "http://example.com/api/x"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend api/);
    // The client agent keeps its connections alive: a graceful stop closes them instead of waiting.
    assert.equal(await p.stop(), 0, "SIGTERM stops within the kill delay despite idle keep-alive clients");
  } finally {
    await p.stop();
    api.close();
    stat.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
