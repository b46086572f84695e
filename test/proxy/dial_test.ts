// dial(): connect, PROXY header, refused, connect timeout and giving up, told once each.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { dial } from "../../src/proxy/dial.ts";
import type { ProxyError } from "../../src/proxy/errors.ts";
import { Server } from "../../src/proxy/server.ts";
import { blackholePort, freePort, namedServer, server } from "./fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const client = { srcAddress: "192.0.2.7", srcPort: 40000, dstAddress: "198.51.100.1", dstPort: 443, frontend: "fe" };

/** Dials and resolves with how it ended (and how often the waiter was told). */
function dialed(srv: Server, port: number, timeout: number, giveUp = false): Promise<{ err?: ProxyError; socket: Socket; calls: number }> {
  return new Promise((resolve) => {
    let calls = 0;
    const socket = dial(srv, port, client, timeout, undefined, {
      dialed(err, s) {
        calls++;
        cleanups.push(() => void s.destroy());
        setTimeout(() => resolve({ err, socket: s, calls }), 50);
      },
    });
    if (giveUp) socket.destroy();
  });
}

describe("dial", () => {
  it("connects, writes the PROXY header first, and clears the connect timer", async () => {
    const got: Buffer[] = [];
    const s = await namedServer("d", 0, "127.0.0.1", (sock) => sock.on("data", (d: Buffer) => got.push(d)));
    cleanups.push(() => s.close());
    const r = await dialed(new Server(server("d", s.port, { sendProxy: "v1" }), { up: true, health: 1 }), s.port, 100);
    assert.equal(r.err, undefined);
    assert.equal(r.calls, 1);
    assert.equal(Buffer.concat(got).toString(), "PROXY TCP4 192.0.2.7 198.51.100.1 40000 443\r\n");
    await new Promise((res) => setTimeout(res, 150));
    assert.equal(r.socket.destroyed, false, "no connect timeout after connecting");
    assert.equal(r.socket.listenerCount("timeout"), 0);
  });

  it("refused is E_CONNECT naming server and address", async () => {
    const port = await freePort();
    const r = await dialed(new Server(server("x", port), { up: true, health: 1 }), port, 1000);
    assert.equal(r.err?.code, "E_CONNECT");
    assert.equal(r.err?.message, `Cannot connect to server "x" at 127.0.0.1:${port}: connection refused`);
    assert.equal(r.calls, 1);
    assert.equal(r.socket.destroyed, true);
  });

  it("no answer within the timeout is E_CONNECT_TIMEOUT; destroying the socket first is E_ABORTED", async () => {
    const hole = await blackholePort();
    cleanups.push(() => hole.close());
    const srv = new Server(server("h", hole.port), { up: true, health: 1 });
    const slow = await dialed(srv, hole.port, 60);
    assert.equal(slow.err?.code, "E_CONNECT_TIMEOUT");
    assert.match(slow.err!.message, /timeout after 60ms$/);
    const aborted = await dialed(srv, hole.port, 0, true);
    assert.equal(aborted.err?.code, "E_ABORTED");
    assert.equal(aborted.calls, 1);
  });
});
