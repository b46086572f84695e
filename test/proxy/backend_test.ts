// Backend behaviour through real loopback sockets: spread, stickiness, health, queues, backups.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import { Backend } from "../../src/proxy/backend.ts";
import type { BackendConnection } from "../../src/proxy/opening.ts";
import type { ProxyError } from "../../src/proxy/errors.ts";
import { backend, config, freePort, frontend, namedServer, openClient, server, sleep, startProxy, tcpCheck, waitFor, whoAnswers } from "./fixtures.ts";
import type { Harness, NamedServer } from "./fixtures.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function servers(...names: string[]): Promise<NamedServer[]> {
  const out = await Promise.all(names.map((n) => namedServer(n)));
  for (const s of out) cleanups.push(() => s.close());
  return out;
}

async function proxy(...args: Parameters<typeof config>): Promise<Harness> {
  const h = await startProxy(config(...args));
  cleanups.push(() => h.stop());
  return h;
}

function tally(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

describe("backend over loopback", () => {
  it("round-robin spreads connections by weight", async () => {
    const [a, b] = await servers("A", "B");
    const port = await freePort();
    await proxy([frontend("web", [`127.0.0.1:${port}`])], [backend("web", [server("A", a.port, { weight: 3 }), server("B", b.port, { weight: 1 })])]);
    const got: string[] = [];
    for (let i = 0; i < 40; i++) got.push(await whoAnswers(port));
    assert.deepEqual(tally(got), { A: 30, B: 10 });
  });

  it("port-less servers connect to the port the client connected to", async () => {
    const port = await freePort();
    const s = await namedServer("portless", port, "127.0.0.2");
    cleanups.push(() => s.close());
    await proxy([frontend("pl", [`127.0.0.1:${port}`])], [backend("pl", [server("S", undefined, { address: "127.0.0.2" })])]);
    assert.equal(await whoAnswers(port), "portless");
  });

  it("stick on src holds across connections and moves on redispatch when the server dies", async () => {
    const [a, b, c] = await servers("A", "B", "C");
    const port = await freePort();
    const h = await proxy(
      [frontend("st", [`127.0.0.1:${port}`])],
      [
        backend("st", [server("A", a.port), server("B", b.port), server("C", c.port)], {
          stick: { on: "src", type: "ip", size: 100, expire: 60_000 },
          persist: true,
          redispatch: true,
          retries: 2,
        }),
      ],
    );
    const clients = ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"];
    const first = new Map<string, string>();
    for (const ip of clients) first.set(ip, await whoAnswers(port, "127.0.0.1", ip));
    assert.ok(new Set(first.values()).size > 1, "clients spread over servers");
    for (let i = 0; i < 10; i++) for (const ip of clients) assert.equal(await whoAnswers(port, "127.0.0.1", ip), first.get(ip));
    // Kill the server of the first client (no health check: persist tries it, then redispatches).
    const victim = first.get(clients[0])!;
    await [a, b, c].find((s) => s.name === victim)!.close();
    const moved = await whoAnswers(port, "127.0.0.1", clients[0]);
    assert.notEqual(moved, victim);
    // The entry was updated: the client now sticks to its new server.
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(port, "127.0.0.1", clients[0]), moved);
    const status = h.ctx.services.proxy!.status() as { backends: { stickEntries: number }[] };
    assert.equal(status.backends[0].stickEntries, 4);
  });

  it("a killed server goes down after `fall` checks, traffic avoids it, and it returns after `rise`", async () => {
    const [a, b] = await servers("A", "B");
    const port = await freePort();
    const h = await proxy([frontend("hc", [`127.0.0.1:${port}`])], [backend("hc", [server("A", a.port, { check: tcpCheck() }), server("B", b.port, { check: tcpCheck() })])]);
    const bPort = b.port;
    await b.close();
    await waitFor(() => h.ctx.services.proxy!.serverState("hc", "B") === "down", 2000, "B down");
    const down = h.events.find((e) => e.name === "server.down");
    assert.deepEqual(down?.data, { proxy: "hc", server: "B", reason: "L4CON: connection refused", check: "L4CON" });
    assert.ok(h.events.some((e) => e.name === "server.state" && (e.data as { state: string }).state === "down"));
    for (let i = 0; i < 10; i++) assert.equal(await whoAnswers(port), "A");
    const back = await namedServer("B", bPort);
    cleanups.push(() => back.close());
    await waitFor(() => h.ctx.services.proxy!.serverState("hc", "B") === "up", 2000, "B up");
    assert.ok(h.events.some((e) => e.name === "server.up"));
    const got = new Set<string>();
    for (let i = 0; i < 6; i++) got.add(await whoAnswers(port));
    assert.deepEqual([...got].sort(), ["A", "B"]);
  });

  it("emits proxy.no_server and closes clients when every server is down", async () => {
    const port = await freePort();
    const dead = await freePort();
    const h = await proxy([frontend("none", [`127.0.0.1:${port}`])], [backend("none", [server("X", dead, { check: tcpCheck({ fall: 1 }) })])]);
    await waitFor(() => h.events.some((e) => e.name === "proxy.no_server"), 2000, "proxy.no_server");
    await assert.rejects(whoAnswers(port), /closed before a line/);
    assert.deepEqual(h.ctx.services.proxy!.healthy(["none"]), { healthy: false, reason: `"none" has 0 server(s) up, needs 1` });
    // track.proxy both ways: "alive and listening" (min_servers 0, what keepalived's chk_haproxy
    // meant) stays healthy; servers-up per backend asks it of the backends named only.
    assert.deepEqual(h.ctx.services.proxy!.healthy(undefined, 0), { healthy: true, reason: "alive, all listeners bound" });
    assert.equal(h.ctx.services.proxy!.healthy(undefined, { other: 1 }).healthy, true);
    assert.deepEqual(h.ctx.services.proxy!.healthy(undefined, { none: 1 }), { healthy: false, reason: `"none" has 0 server(s) up, needs 1` });
  });

  it("backup servers serve only while no active server is up; weight 0 and disabled get nothing", async () => {
    const [a, z, d, bk] = await servers("A", "Z", "D", "BK");
    const port = await freePort();
    const h = await proxy(
      [frontend("bk", [`127.0.0.1:${port}`])],
      [backend("bk", [server("A", a.port, { check: tcpCheck({ fall: 1 }) }), server("Z", z.port, { weight: 0 }), server("D", d.port, { disabled: true }), server("BK", bk.port, { backup: true })])],
    );
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(port), "A");
    assert.equal(h.ctx.services.proxy!.serverState("bk", "Z"), "drain");
    assert.equal(h.ctx.services.proxy!.serverState("bk", "D"), "maint");
    await a.close();
    await waitFor(() => h.ctx.services.proxy!.serverState("bk", "A") === "down", 2000, "A down");
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(port), "BK");
  });

  it("server maxconn queues in FIFO order, and `timeout queue` closes a waiter", async () => {
    const [a] = await servers("A");
    const port = await freePort();
    await proxy([frontend("q", [`127.0.0.1:${port}`])], [backend("q", [server("A", a.port, { maxconn: 1 })], { timeouts: { connect: 500, client: 5000, server: 5000, queue: 1500, httpRequest: 1, httpKeepAlive: 1 } })]);
    const first = await openClient(port);
    assert.equal(await first.line(), "A");
    const order: number[] = [];
    const waiters = [];
    for (let i = 0; i < 3; i++) {
      const c = await openClient(port);
      waiters.push(c.line().then(() => {
        order.push(i);
        c.socket.destroy();
      }));
      await sleep(40);
    }
    await sleep(50);
    assert.equal(a.accepted, 1, "queued connections are not sent to the server");
    first.socket.destroy();
    await Promise.all(waiters);
    assert.deepEqual(order, [0, 1, 2], `served in order ${order.join(",")}, server accepted ${a.accepted}`);
  });

  it("a queued client gives up after `timeout queue`", async () => {
    const [a] = await servers("A");
    const port = await freePort();
    await proxy([frontend("qt", [`127.0.0.1:${port}`])], [backend("qt", [server("A", a.port, { maxconn: 1 })], { timeouts: { connect: 500, client: 5000, server: 5000, queue: 100, httpRequest: 1, httpKeepAlive: 1 } })]);
    const first = await openClient(port);
    await first.line();
    const start = Date.now();
    const second = await openClient(port);
    await second.closed;
    const waited = Date.now() - start;
    assert.ok(waited >= 90 && waited < 1000, `closed after ${waited}ms`);
    first.socket.destroy();
  });

  it("on_marked_down: shutdown_sessions closes the sessions of a server marked down", async () => {
    const [a, checkTarget] = await servers("A", "check-only");
    const port = await freePort();
    const h = await proxy(
      [frontend("sd", [`127.0.0.1:${port}`])],
      [backend("sd", [server("A", a.port, { check: tcpCheck({ port: checkTarget.port, fall: 1 }) })], { onMarkedDown: "shutdown_sessions" })],
    );
    const c = await openClient(port);
    assert.equal(await c.line(), "A");
    await checkTarget.close();
    await waitFor(() => h.ctx.services.proxy!.serverState("sd", "A") === "down", 2000, "A down");
    await c.closed;
  });
});

describe("Backend.open (callback acquire)", () => {
  const client = { srcAddress: "127.0.0.1", srcPort: 1, dstAddress: "127.0.0.1", dstPort: 1, frontend: "fe" };
  const open = (b: Backend) => {
    let calls = 0;
    let handle!: { cancel(): void };
    const result = new Promise<{ err?: ProxyError; conn?: BackendConnection }>((resolve) => {
      handle = b.open(client, {}, {
        opened(err, conn) {
          calls++;
          resolve({ err, conn });
        },
      });
    });
    return { result, cancel: () => handle.cancel(), calls: () => calls };
  };

  it("connects on a free slot, queues on a full one, and a cancelled waiter leaves the queue", async () => {
    const [a] = await servers("A");
    const b = new Backend(backend("o", [server("A", a.port, { maxconn: 1 })]), { clock: systemClock, bus: new EventBus(), log: nullLogger });
    const first = open(b);
    const { conn } = await first.result;
    assert.ok(conn, "first connection");
    assert.equal(conn.server.name, "A");
    assert.equal(conn.attempts, 1);
    const queued = open(b);
    await sleep(30);
    assert.equal(queued.calls(), 0, "waiting for the slot");
    queued.cancel();
    assert.equal((await queued.result).err?.code, "E_ABORTED");
    const next = open(b);
    conn.socket.destroy();
    conn.release();
    conn.release(); // once only
    const second = await next.result;
    assert.ok(second.conn, "the slot went to the next waiter, not the cancelled one");
    assert.equal(b.active, 1);
    second.conn.socket.destroy();
    second.conn.release();
    assert.equal(b.active, 0);
    assert.equal(first.calls() + queued.calls() + next.calls(), 3);
  });

  it("retries a refused server, then reports E_CONNECT once", async () => {
    const port = await freePort();
    const b = new Backend(backend("r", [server("X", port)], { retries: 2 }), { clock: systemClock, bus: new EventBus(), log: nullLogger });
    const o = open(b);
    const { err } = await o.result;
    assert.equal(err?.code, "E_CONNECT");
    assert.equal(b.servers.get("X")!.connectErrors, 3);
    assert.equal(b.active, 0);
    assert.equal(o.calls(), 1);
  });
});
