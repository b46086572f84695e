// Built-in checks against real things: interfaces, sockets, an HTTP server, shell commands.

import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { describeCheck, hostHolds, runCheck } from "../../src/alerts/checks.ts";
import type { Services } from "../../src/core/subsystem.ts";
import { freePort } from "../notify/smtp_fixture.ts";

const env = { services: {} as Services };

describe("checks", () => {
  it("vip_held / vip_not_held look at this host's addresses", async () => {
    assert.equal((await runCheck({ vip_held: "127.0.0.1" }, env)).ok, true);
    assert.equal((await runCheck({ vip_held: "192.0.2.254/24" }, env)).ok, false);
    assert.equal((await runCheck({ vip_not_held: "192.0.2.254" }, env)).ok, true);
    const fake = () => ({ eth0: [{ address: "192.168.8.248", netmask: "255.255.255.0", family: "IPv4" as const, mac: "00:00:00:00:00:00", internal: false, cidr: "192.168.8.248/24" }] });
    const r = await runCheck({ vip_held: "192.168.8.248/24" }, { ...env, interfaces: fake });
    assert.equal(r.ok, true);
    assert.match(r.summary, /held by this host \(on eth0\)/);
    assert.equal(hostHolds("::1", { lo: [{ address: "::1", netmask: "", family: "IPv6", mac: "", internal: true, cidr: "::1/128", scopeid: 0 }] }), "lo");
  });

  it("server_state reads the proxy service, and says when there is none", async () => {
    const services: Services = {
      proxy: { status: () => ({}), healthy: () => ({ healthy: true, reason: "" }), serverState: (p, s) => (p === "Exchange2010" && s === "CAS0" ? "down" : undefined) },
    };
    const check = { server_state: { proxy: "Exchange2010", server: "CAS0", state: "up" as const } };
    const r = await runCheck(check, { services });
    assert.equal(r.ok, false);
    assert.match(r.summary, /is down \(expected up\)/);
    assert.match((await runCheck({ server_state: { proxy: "x", server: "y", state: "up" } }, { services })).summary, /not configured/);
    assert.match((await runCheck(check, env)).summary, /proxy is not running/);
  });

  it("tcp_connect succeeds on a listening port and fails on a closed one", async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const port = (server.address() as { port: number }).port;
    assert.equal((await runCheck({ tcp_connect: `127.0.0.1:${port}`, timeout: 1000 }, env)).ok, true);
    const closed = await runCheck({ tcp_connect: `127.0.0.1:${await freePort()}`, timeout: 1000 }, env);
    assert.equal(closed.ok, false);
    assert.match(closed.summary, /ECONNREFUSED/);
    assert.match((await runCheck({ tcp_connect: "nonsense", timeout: 1000 }, env)).summary, /check failed to run/);
  });

  it("http_get compares the status with the expected range", async () => {
    const server = createHttpServer((req, res) => res.writeHead(req.url === "/ok" ? 200 : 503).end(req.url === "/ok" ? "fine" : "maintenance"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const expect = { min: 200, max: 299 };
    assert.equal((await runCheck({ http_get: `${base}/ok`, expect, timeout: 1000 }, env)).ok, true);
    const bad = await runCheck({ http_get: `${base}/x`, expect, timeout: 1000 }, env);
    assert.equal(bad.ok, false);
    assert.match(bad.summary, /answered 503 \(expected 200-299\)/);
    assert.equal(bad.output, "maintenance");
  });

  it("command reports exit code and output, and kills on timeout", async () => {
    const ok = await runCheck({ command: "echo all good", timeout: 2000 }, env);
    assert.deepEqual([ok.ok, ok.exitCode, ok.output], [true, 0, "all good"]);
    const fail = await runCheck({ command: "echo 'disk 97% full'; echo oops >&2; exit 3", timeout: 2000 }, env);
    assert.deepEqual([fail.ok, fail.exitCode, fail.summary], [false, 3, "command exited 3"]);
    assert.equal(fail.output, "disk 97% full\nstderr:\noops");
    const started = Date.now();
    const slow = await runCheck({ command: "sleep 5; echo never", timeout: 200 }, env);
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual([slow.ok, slow.exitCode], [false, null]);
    assert.match(slow.summary, /timed out after 200 ms/);
    assert.equal(describeCheck({ command: "x", timeout: 1 }), "command x");
  });
});
