// The transport contract (src/runtime/transport.ts): every implementation runs these cases.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { ChunkReader, readerOf } from "../../src/runtime/chunk_reader.ts";
import { netTransport } from "../../src/runtime/net_transport.ts";
import type { Conn, Listening, Transport, TransportError } from "../../src/runtime/transport.ts";
import { freePort } from "../helpers/net.ts";
import { blackholePort } from "../proxy/fixtures.ts";

const TRANSPORTS: Transport[] = [netTransport];

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups.reverse()) c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Listens on 127.0.0.1 with an OS-chosen port; connections are collected. */
async function listening(t: Transport, opts: { readers?: boolean; acceptors?: number } = {}): Promise<{ l: Listening; conns: Conn[]; next(): Promise<Conn> }> {
  const conns: Conn[] = [];
  const waiting: ((c: Conn) => void)[] = [];
  const l = await t.listen({ host: "127.0.0.1", port: 0, backlog: 64, acceptors: opts.acceptors ?? 1, reusePort: false }, {
    connection: (c) => {
      conns.push(c);
      cleanups.push(() => void c.destroy());
      waiting.shift()?.(c);
    },
    readers: () => opts.readers ?? false,
    error: () => {},
  });
  cleanups.push(() => l.close());
  return { l, conns, next: () => (conns.length > waiting.length ? Promise.resolve(conns[waiting.length]) : new Promise((r) => waiting.push(r))) };
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => resolve(s));
    s.on("error", reject);
    cleanups.push(() => void s.destroy());
  });
}

function readAll(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    s.on("data", (d: Buffer) => (text += d.toString()));
    s.on("end", () => resolve(text));
  });
}

/** Dials and resolves with how it ended and how often (and how soon) the waiter was told. */
function dialed(t: Transport, port: number, timeout: number, options: { giveUp?: boolean; reader?: ChunkReader } = {}): Promise<{ err?: TransportError; conn: Conn; calls: number; sync: boolean }> {
  return new Promise((resolve) => {
    let calls = 0;
    let returned = false;
    let sync = false;
    const conn = t.dial({ host: "127.0.0.1", port, timeout, reader: options.reader }, {
      dialed(err, c) {
        calls++;
        if (!returned) sync = true;
        cleanups.push(() => void c.destroy());
        setTimeout(() => resolve({ err, conn: c, calls, sync }), 30);
      },
    });
    returned = true;
    if (options.giveUp) conn.destroy();
  });
}

for (const t of TRANSPORTS) {
  describe(`transport contract: ${t.name}`, () => {
    it("listens on an OS-chosen port and accepts paused connections with their addresses", async () => {
      const { l, next } = await listening(t);
      assert.ok(l.port > 0);
      assert.equal(l.acceptors, 1);
      const c = await client(l.port);
      const conn = await next();
      assert.equal(conn.isPaused(), true, "accepted paused");
      assert.equal(conn.remotePort, c.localPort);
      assert.equal(conn.localPort, l.port);
      assert.match(conn.remoteAddress ?? "", /127\.0\.0\.1$/);
      const got = new Promise<string>((r) => conn.on("data", (d: Buffer) => r(d.toString())));
      conn.resume();
      c.write("ping");
      assert.equal(await got, "ping");
      assert.equal(conn.bytesRead, 4);
    });

    it("half-close: a client FIN is 'end' and our side stays writable until end()", async () => {
      const { l, next } = await listening(t);
      const c = await client(l.port);
      const conn = await next();
      const ended = new Promise<void>((r) => conn.on("end", () => r()));
      conn.on("data", () => {});
      conn.resume();
      const reply = readAll(c);
      c.end();
      await ended;
      assert.equal(conn.writable, true);
      conn.write("after FIN");
      conn.end();
      const closed = new Promise<void>((r) => (conn.destroyed ? r() : conn.on("close", () => r())));
      assert.equal(await reply, "after FIN");
      await closed;
      assert.equal(conn.bytesWritten, 9);
    });

    it("reads through a ChunkReader when the listener asks for one", async () => {
      const { l, next } = await listening(t, { readers: true });
      const c = await client(l.port);
      const conn = await next();
      const reader = readerOf(conn);
      if (!reader) return; // the transport reads through 'data' here (Deno)
      const chunks: string[] = [];
      reader.onChunk = (b) => {
        chunks.push(b.toString());
        return true;
      };
      conn.resume();
      c.write("abc");
      await sleep(50);
      assert.deepEqual(chunks, ["abc"]);
    });

    it("idle timeout: 'timeout' after that long without traffic; 0 turns it off", async () => {
      const { l, next } = await listening(t);
      await client(l.port);
      const conn = await next();
      const fired = new Promise<number>((r) => {
        const t0 = Date.now();
        conn.on("timeout", () => r(Date.now() - t0));
      });
      conn.setTimeout(60);
      assert.ok((await fired) >= 50);
      conn.setTimeout(0);
      assert.equal(conn.timeout ?? 0, 0);
    });

    it("an address someone else holds is EADDRINUSE, even with several acceptors", async () => {
      const taken = createServer();
      await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
      cleanups.push(() => void taken.close());
      const port = (taken.address() as { port: number }).port;
      for (const acceptors of [1, 4]) {
        await assert.rejects(t.listen({ host: "127.0.0.1", port, backlog: 8, acceptors, reusePort: false }, { connection: () => {}, readers: () => false, error: () => {} }), (err: TransportError) => err.code === "EADDRINUSE");
      }
    });

    it("close() stops accepting and leaves accepted connections alone", async () => {
      const { l, next } = await listening(t);
      const c = await client(l.port);
      const conn = await next();
      l.close();
      await sleep(20);
      await assert.rejects(client(l.port));
      const reply = readAll(c);
      conn.end();
      assert.equal(await reply, "");
    });

    it("dial: connected is told once, never before dial returns, and can write and read", async () => {
      const { l, next } = await listening(t);
      const r = await dialed(t, l.port, 1000);
      assert.equal(r.err, undefined);
      assert.equal(r.calls, 1);
      assert.equal(r.sync, false);
      const conn = await next();
      conn.resume();
      const echo = new Promise<string>((res) => conn.on("data", (d: Buffer) => res(d.toString())));
      r.conn.write("hello");
      assert.equal(await echo, "hello");
      assert.equal(r.conn.listenerCount("timeout"), 0, "the connect timer is gone");
    });

    it("dial with a reader: the server's bytes come through it", async () => {
      const { l, next } = await listening(t);
      const reader = new ChunkReader();
      const r = await dialed(t, l.port, 1000, { reader });
      const conn = await next();
      const got: string[] = [];
      if (readerOf(r.conn) === reader) {
        reader.onChunk = (b) => {
          got.push(b.toString());
          return true;
        };
      } else r.conn.on("data", (d: Buffer) => got.push(d.toString()));
      r.conn.resume();
      conn.write("from server");
      await sleep(50);
      assert.deepEqual(got, ["from server"]);
    });

    it("dial errors: refused, timeout, and giving up, each told once with the conn destroyed", async () => {
      const refused = await dialed(t, await freePort(), 1000);
      assert.equal(refused.err?.code, "ECONNREFUSED");
      assert.equal(refused.calls, 1);
      assert.equal(refused.conn.destroyed, true);
      const hole = await blackholePort();
      cleanups.push(() => void hole.close());
      const slow = await dialed(t, hole.port, 60);
      assert.equal(slow.err?.code, "ETIMEDOUT");
      assert.equal(slow.calls, 1);
      assert.equal(slow.conn.destroyed, true);
      const aborted = await dialed(t, hole.port, 0, { giveUp: true });
      assert.equal(aborted.err?.code, "ECLOSED");
      assert.equal(aborted.calls, 1);
      assert.equal(aborted.conn.destroyed, true);
    });
  });
}
