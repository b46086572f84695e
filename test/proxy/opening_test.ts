// Backend.open's dial (opening.ts): connect, PROXY header, refused, connect timeout and giving
// up, told once each. (The transport underneath has its own contract test.)

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import { Backend } from "../../src/proxy/backend.ts";
import type { ProxyError } from "../../src/proxy/errors.ts";
import type { BackendConnection } from "../../src/proxy/opening.ts";
import type { ServerConfig } from "../../src/proxy/config_types.ts";
import { backend, blackholePort, freePort, namedServer, server } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const client = { srcAddress: "192.0.2.7", srcPort: 40000, dstAddress: "198.51.100.1", dstPort: 443, frontend: "fe" };

/** Opens one connection to srv (no retry) and resolves with how it ended (and how often the waiter was told). */
function dialed(srv: ServerConfig, timeout: number, giveUp = false): Promise<{ err?: ProxyError; conn?: BackendConnection; calls: number }> {
  const config = backend("b", [srv], { retries: 0 });
  config.timeouts.connect = timeout;
  const b = new Backend(config, { clock: systemClock, bus: new EventBus(), log: nullLogger });
  return new Promise((resolve) => {
    let calls = 0;
    const opening = b.open(client, {}, {
      opened(err, conn) {
        calls++;
        cleanups.push(() => void conn?.socket.destroy());
        setTimeout(() => resolve({ err, conn, calls }), 50);
      },
    });
    if (giveUp) setTimeout(() => opening.cancel(), 10);
  });
}

describe("dial", () => {
  it("connects, writes the PROXY header first, and clears the connect timer", async () => {
    const got: Buffer[] = [];
    const s = await namedServer("d", 0, "127.0.0.1", (sock) => sock.on("data", (d: Buffer) => got.push(d)));
    cleanups.push(() => s.close());
    const r = await dialed(server("d", s.port, { sendProxy: "v1" }), 100);
    assert.equal(r.err, undefined);
    assert.equal(r.calls, 1);
    assert.equal(Buffer.concat(got).toString(), "PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n");
    await new Promise((res) => setTimeout(res, 150));
    assert.equal(r.conn!.socket.destroyed, false, "no connect timeout after connecting");
    assert.equal(r.conn!.socket.listenerCount("timeout"), 0);
  });

  it("refused is E_CONNECT naming server and address", async () => {
    const port = await freePort();
    const r = await dialed(server("x", port), 1000);
    assert.equal(r.err?.code, "E_CONNECT");
    assert.equal(r.err?.message, `Cannot connect to server "x" at 127.0.0.1:${port}: connection refused`);
    assert.equal(r.calls, 1);
    assert.equal(r.conn, undefined);
  });

  it("no answer within the timeout is E_CONNECT_TIMEOUT; giving up first is E_ABORTED", async () => {
    const hole = await blackholePort();
    cleanups.push(() => hole.close());
    const slow = await dialed(server("h", hole.port), 60);
    assert.equal(slow.err?.code, "E_CONNECT_TIMEOUT");
    assert.match(slow.err!.message, /timeout after 60ms$/);
    const aborted = await dialed(server("h", hole.port), 0, true);
    assert.equal(aborted.err?.code, "E_ABORTED");
    assert.equal(aborted.calls, 1);
  });
});
