// Listener: several SO_REUSEPORT acceptors per address, still a clear error when the address is taken.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { systemClock } from "../../src/core/clock.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { ProxyError } from "../../src/proxy/errors.ts";
import { ACCEPTORS, acceptorsFor, Listener } from "../../src/proxy/listener.ts";
import { freePort, waitFor } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function listener(port: number, onConnection: (s: Socket) => void, reusePort = false, acceptors?: number): Listener {
  const l = new Listener({ host: "127.0.0.1", port, proxy: "fe", clock: systemClock, log: nullLogger, onConnection, reusePort, acceptors });
  cleanups.push(() => l.close());
  return l;
}

describe("listener", () => {
  it("binds several acceptors on one address and every connection of a burst arrives", async () => {
    const accepted: Socket[] = [];
    cleanups.push(() => accepted.forEach((s) => s.destroy()));
    const l = listener(await freePort(), (s) => accepted.push(s));
    await l.bind();
    assert.equal(l.bound, true);
    // Deno: one socket (its node:net has no accept hook or SO_REUSEPORT to rely on).
    if ("deno" in process.versions) assert.equal(l.acceptors, 1);
    else assert.ok(l.acceptors > 1, `acceptors: ${l.acceptors}`);
    const clients = Array.from({ length: 200 }, () => connect({ host: "127.0.0.1", port: l.port }));
    cleanups.push(() => clients.forEach((c) => c.destroy()));
    await waitFor(() => accepted.length === 200, 5000, "200 accepted connections");
    await l.close();
    await assert.rejects(new Promise((resolve, reject) => {
      const c = connect({ host: "127.0.0.1", port: l.port }, () => resolve(c));
      c.on("error", reject);
    }), /ECONNREFUSED/);
  });

  it("an address another listener of this user holds is still 'address already in use'", async () => {
    const port = await freePort();
    const first = listener(port, (s) => s.destroy());
    await first.bind();
    const second = listener(port, (s) => s.destroy());
    await assert.rejects(second.bind(), (err: ProxyError) => {
      assert.equal(err.code, "E_BIND");
      assert.equal(err.message, `Cannot bind "fe" on 127.0.0.1:${port}: address already in use`);
      return true;
    });
  });

  it("proxy workers (reusePort) share the address", async () => {
    const port = await freePort();
    const a = listener(port, (s) => s.destroy(), true);
    const b = listener(port, (s) => s.destroy(), true);
    await a.bind();
    await b.bind();
    assert.equal(a.bound && b.bound, true);
  });

  it("many addresses share a budget of sockets: a port range gets one acceptor each", async () => {
    assert.equal(acceptorsFor(1), ACCEPTORS);
    assert.equal(acceptorsFor(15), ACCEPTORS);
    assert.equal(acceptorsFor(64), 4);
    assert.equal(acceptorsFor(1000), 1);
    const accepted: Socket[] = [];
    cleanups.push(() => accepted.forEach((s) => s.destroy()));
    const l = listener(await freePort(), (s) => accepted.push(s), false, 1);
    await l.bind();
    assert.equal(l.acceptors, 1);
    const c = connect({ host: "127.0.0.1", port: l.port });
    cleanups.push(() => void c.destroy());
    await waitFor(() => accepted.length === 1, 2000, "accepted");
  });
});
