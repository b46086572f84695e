// Health probes against real loopback servers: each failure names its layer.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { HealthChecker, probe } from "../../src/proxy/health_check.ts";
import { blackholePort, freePort, namedServer, tcpCheck, waitFor } from "./fixtures.ts";
import type { NamedServer } from "./fixtures.ts";

const servers: NamedServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function http(status: string, delay = 0): Promise<NamedServer> {
  const s = await namedServer("http", 0, "127.0.0.1", (sock) => {
    sock.once("data", () => setTimeout(() => sock.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`), delay));
  });
  servers.push(s);
  return s;
}

const httpCheck = (over = {}) => tcpCheck({ type: "http", method: "GET", path: "/health", host: "example.test", ...over });

describe("health probes", () => {
  it("tcp: L4OK when the port accepts, L4CON when refused", async () => {
    const s = await namedServer("t");
    servers.push(s);
    const ok = await probe({ host: "127.0.0.1", port: s.port }, tcpCheck(), systemClock);
    assert.equal(ok.status, "L4OK");
    assert.equal(ok.ok, true);
    const refused = await probe({ host: "127.0.0.1", port: await freePort() }, tcpCheck(), systemClock);
    assert.deepEqual([refused.ok, refused.status, refused.detail], [false, "L4CON", "connection refused"]);
  });

  it("http: L7OK inside the expected range, L7STS outside, with the request it sends", async () => {
    let request = "";
    const s = await namedServer("h", 0, "127.0.0.1", (sock) => {
      sock.once("data", (d) => {
        request = d.toString();
        sock.end("HTTP/1.1 204 No Content\r\n\r\n");
      });
    });
    servers.push(s);
    const ok = await probe({ host: "127.0.0.1", port: s.port }, httpCheck(), systemClock);
    assert.deepEqual([ok.ok, ok.status, ok.detail], [true, "L7OK", "HTTP status 204"]);
    assert.match(request, /^GET \/health HTTP\/1\.0\r\nHost: example\.test\r\n/);
    const bad = await http("503 Service Unavailable");
    const r = await probe({ host: "127.0.0.1", port: bad.port }, httpCheck(), systemClock);
    assert.deepEqual([r.ok, r.status, r.detail], [false, "L7STS", "HTTP status 503"]);
  });

  it("http: L7TOUT when the answer is late, L7RSP when it is not HTTP", async () => {
    const slow = await http("200 OK", 500);
    const r = await probe({ host: "127.0.0.1", port: slow.port }, httpCheck({ timeout: 100 }), systemClock);
    assert.deepEqual([r.ok, r.status], [false, "L7TOUT"]);
    const junk = await namedServer("j", 0, "127.0.0.1", (sock) => sock.end("SSH-2.0-OpenSSH\r\n"));
    servers.push(junk);
    const j = await probe({ host: "127.0.0.1", port: junk.port }, httpCheck(), systemClock);
    assert.deepEqual([j.ok, j.status], [false, "L7RSP"]);
  });

  it("tcp: L4TOUT when the connection is not accepted in time", async () => {
    const hole = await blackholePort();
    try {
      const r = await probe({ host: "127.0.0.1", port: hole.port }, tcpCheck({ timeout: 150 }), systemClock);
      assert.deepEqual([r.ok, r.status, r.detail], [false, "L4TOUT", "timeout after 150ms"]);
    } finally {
      await hole.close();
    }
  });

  it("HealthChecker drives the state machine and reports transitions", async () => {
    const s = await namedServer("c");
    servers.push(s);
    const seen: string[] = [];
    const checker = new HealthChecker({
      target: { host: "127.0.0.1", port: s.port },
      check: tcpCheck({ rise: 2, fall: 2 }),
      clock: systemClock,
      initial: "down",
      onTransition: (a) => seen.push(a.type),
    });
    checker.start();
    await waitFor(() => seen.length === 1, 2000, "went_up");
    await s.close();
    await waitFor(() => seen.length === 2, 2000, "went_down");
    checker.stop();
    assert.deepEqual(seen, ["went_up", "went_down"]);
    assert.equal(checker.state.last?.status, "L4CON");
  });
});
