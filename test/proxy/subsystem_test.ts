// The proxy subsystem: every bind form accepts, bind errors name proxy and address, hitless reload.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { ProxyError } from "../../src/proxy/errors.ts";
import { backend, blackholePort, config, freePort, freePortRange, frontend, namedServer, openClient, server, sleep, startProxy, tcpCheck, tracker, waitFor, whoAnswers } from "./fixtures.ts";
import type { Client } from "./fixtures.ts";

const { track, defer, cleanAll } = tracker();
after(cleanAll);

describe("proxy subsystem", () => {
  it("every bind form accepts: ip:port, lists, ranges, :port, [v6]:port", async () => {
    const s = await track(namedServer("any"));
    const base = await freePortRange(7);
    const binds = [`127.0.0.1:${base}`, `127.0.0.1:${base + 1},${base + 2}`, `127.0.0.1:${base + 3}-${base + 4}`, `:${base + 5}`, `[::1]:${base + 6}`];
    const h = await track(startProxy(config([frontend("forms", binds)], [backend("forms", [server("any", s.port)])])));
    for (let p = base; p <= base + 5; p++) assert.equal(await whoAnswers(p), "any", `port ${p}`);
    assert.equal(await whoAnswers(base + 6, "::1"), "any");
    assert.equal(h.events.filter((e) => e.name === "listener.bound").length, 7);
    assert.deepEqual(h.ctx.services.proxy!.healthy(), { healthy: true, reason: "all listeners bound, servers up" });
  });

  it("a listener that cannot bind is a clear error naming proxy and address", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const port = (taken.address() as { port: number }).port;
    defer(async () => void taken.close());
    await assert.rejects(startProxy(config([frontend("Exchange2010", [`127.0.0.1:${port}`])], [backend("Exchange2010", [server("a", 1)])])), (err: ProxyError) => {
      assert.equal(err.code, "E_BIND");
      assert.equal(err.message, `Cannot bind "Exchange2010" on 127.0.0.1:${port}: address already in use`);
      return true;
    });
  });

  it("rejects a config the engine cannot run, with every reason", async () => {
    const fe = frontend("x", ["127.0.0.1:1"], { defaultBackend: "missing" });
    await assert.rejects(startProxy(config([fe], [backend("x", [server("a", undefined, { check: tcpCheck() })])])), /default backend "missing" does not exist.*Server "a" in backend "x" has no port/);
  });

  it("connect timeout, retries, then redispatch to a live server", async () => {
    const hole = await blackholePort();
    defer(() => hole.close());
    const live = await track(namedServer("live"));
    const port = await freePort();
    const timeouts = { connect: 80, client: 5000, server: 5000, queue: 1000, httpRequest: 1, httpKeepAlive: 1 };
    await track(startProxy(config([frontend("ct", [`127.0.0.1:${port}`])], [backend("ct", [server("hole", hole.port), server("live", live.port)], { balance: { algorithm: "first", hash: "map" }, retries: 2, redispatch: true, timeouts })])));
    const start = Date.now();
    assert.equal(await whoAnswers(port), "live");
    const t = Date.now() - start;
    assert.ok(t >= 150 && t < 1000, `two timed-out attempts then redispatch took ${t}ms`);
  });

  it("reload under load: no established connection lost, listeners kept/added/removed, state carried over", async () => {
    const a = await track(namedServer("A"));
    const b = await track(namedServer("B"));
    const base = await freePortRange(3);
    const stick = { on: "src" as const, type: "ip" as const, size: 100, expire: 60_000 };
    const v1 = config(
      [frontend("main", [`127.0.0.1:${base}`]), frontend("old", [`127.0.0.1:${base + 1}`], { defaultBackend: "main" })],
      [backend("main", [server("A", a.port, { check: tcpCheck() }), server("B", b.port, { check: tcpCheck() })], { stick })],
    );
    const h = await track(startProxy(v1));
    // Established connections through both frontends, kept busy during the reload.
    const clients: Client[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await openClient(i % 2 ? base + 1 : base, "127.0.0.1", `127.0.1.${i + 1}`);
      await c.line();
      clients.push(c);
    }
    const stuck = await whoAnswers(base, "127.0.0.1", "127.0.2.1");
    let stop = false;
    const traffic = (async () => {
      let n = 0;
      while (!stop) {
        const c = clients[n++ % clients.length];
        c.socket.write(`m${n}\n`);
        assert.equal(await c.line(), `m${n}`);
      }
      return n;
    })();
    await sleep(30);
    // v2: "old" removed, "new" added, A's weight changed; reloads alternate v1/v2 under traffic.
    const v2 = config(
      [frontend("main", [`127.0.0.1:${base}`]), frontend("new", [`127.0.0.1:${base + 2}`], { defaultBackend: "main" })],
      [backend("main", [server("A", a.port, { check: tcpCheck(), weight: 2 }), server("B", b.port, { check: tcpCheck() })], { stick })],
    );
    for (let i = 0; i < 3; i++) {
      await h.proxy.reload(i % 2 ? v1 : v2);
      await sleep(20);
    }
    await h.proxy.reload(v2);
    await sleep(30);
    stop = true;
    const exchanged = await traffic;
    assert.ok(exchanged > 20, `only ${exchanged} messages`);
    for (const [i, c] of clients.entries()) {
      c.socket.write("still\n");
      assert.equal(await c.line(), "still", `client ${i}`);
    }
    // Removed listener closed, new one accepts, kept one still accepts; stick entry survived.
    await assert.rejects(whoAnswers(base + 1));
    assert.ok(["A", "B"].includes(await whoAnswers(base + 2)));
    assert.equal(await whoAnswers(base, "127.0.0.1", "127.0.2.1"), stuck);
    assert.ok(!h.events.some((e) => e.name === "server.down"));
    for (const c of clients) c.socket.destroy();
  });

  it("reload keeps a server's health: a down server stays down without new checks", async () => {
    const a = await track(namedServer("A"));
    const deadPort = await freePort();
    const port = await freePort();
    const mk = (w: number) => config([frontend("hk", [`127.0.0.1:${port}`])], [backend("hk", [server("A", a.port, { weight: w }), server("D", deadPort, { check: tcpCheck({ fall: 1, interval: 60_000, downinterval: 60_000 }) })])]);
    const h = await track(startProxy(mk(1)));
    await waitFor(() => h.ctx.services.proxy!.serverState("hk", "D") === "down", 2000, "D down");
    await h.proxy.reload(mk(3));
    assert.equal(h.ctx.services.proxy!.serverState("hk", "D"), "down");
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(port), "A");
  });

  it("admin hooks: maint/drain/ready and weight, stick table listing and clearing", async () => {
    const a = await track(namedServer("A"));
    const b = await track(namedServer("B"));
    const port = await freePort();
    const h = await track(startProxy(config([frontend("adm", [`127.0.0.1:${port}`])], [backend("adm", [server("A", a.port), server("B", b.port)], { stick: { on: "src", type: "ip", size: 10, expire: 60_000 } })])));
    const p = h.ctx.services.proxy!;
    p.setServer!("adm", "B", { state: "maint" });
    assert.equal(p.serverState("adm", "B"), "maint");
    assert.ok(h.events.some((e) => e.name === "server.state" && (e.data as { state: string }).state === "maint"));
    assert.equal(await whoAnswers(port, "127.0.0.1", "127.0.3.1"), "A");
    assert.deepEqual(p.stickTable!("adm")?.map((e) => [e.key, e.server]), [["127.0.3.1", "A"]]);
    assert.equal(p.clearStickTable!("adm"), 1);
    p.setServer!("adm", "A", { state: "drain" });
    assert.equal(p.serverState("adm", "A"), "drain");
    p.setServer!("adm", "B", { state: "ready" });
    assert.equal(await whoAnswers(port, "127.0.0.1", "127.0.3.2"), "B");
    p.setServer!("adm", "A", { state: "ready" });
    assert.equal(p.serverState("adm", "A"), "up");
    assert.throws(() => p.setServer!("adm", "nope", { state: "maint" }), /No server "nope" in backend "adm"/);
    assert.throws(() => p.setServer!("adm", "A", { weight: 300 }), /must be 0\.\.256/);
  });
});
