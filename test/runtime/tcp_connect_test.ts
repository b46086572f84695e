// The TCP connector's contract: bytes both ways, our address, the close reason, refusals and
// timeouts as E_CONNECT; TTL and the TCP MD5 key are set on the socket before connect(2).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { md5sig, sockaddr, systemConnector } from "../../src/runtime/tcp_connect.ts";
import { TandemError } from "../../src/core/errors.ts";

async function echoServer() {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
    s.on("data", (d) => (d.toString() === "bye" ? s.end() : s.write(d)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { port, sockets, close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(r); }) };
}

test("connects, exchanges bytes, knows its address, reports the peer's close", async () => {
  const srv = await echoServer();
  const connect = systemConnector();
  const c = await connect({ host: "127.0.0.1", port: srv.port, ttl: 1, timeout: 2000 });
  assert.equal(c.localAddress, "127.0.0.1");
  const got: string[] = [];
  const closed = new Promise<string>((r) => c.onClose(r));
  c.onData((b) => got.push(Buffer.from(b).toString()));
  c.write(new TextEncoder().encode("hello"));
  while (got.join("") !== "hello") await new Promise((r) => setTimeout(r, 5));
  c.write(new TextEncoder().encode("bye"));
  assert.equal(await closed, "closed by the peer");
  await srv.close();
});

test("refused and unanswered connections reject with E_CONNECT naming the address", async () => {
  const srv = await echoServer();
  await srv.close();
  const connect = systemConnector();
  await assert.rejects(connect({ host: "127.0.0.1", port: srv.port, timeout: 2000 }), (e: TandemError) => e.code === "E_CONNECT" && /Cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/.test(e.message));
});

test("with a TCP MD5 key, a server without one never answers (the kernel drops our signed SYNs); without node:ffi the key is refused", async () => {
  const srv = await echoServer();
  const connect = systemConnector();
  if ("Deno" in globalThis) {
    await assert.rejects(connect({ host: "127.0.0.1", port: srv.port, md5: "secret", timeout: 300 }), /a TCP MD5 password needs the Node runtime/);
    await srv.close();
    return;
  }
  await assert.rejects(connect({ host: "127.0.0.1", port: srv.port, md5: "secret", timeout: 300 }), /no answer within 300ms/);
  assert.equal(srv.sockets.length, 0);
  await srv.close();
});

test("sockaddr and tcp_md5sig layouts", () => {
  assert.deepEqual([...sockaddr("192.0.2.1", 179)], [2, 0, 0, 179, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const v6 = sockaddr("2001:db8::1", 179);
  assert.equal(v6.length, 28);
  assert.deepEqual([...v6.subarray(0, 4)], [10, 0, 0, 179]);
  assert.equal(v6[8], 0x20);
  assert.equal(v6[23], 1);
  const m = md5sig("192.0.2.1", "abc");
  assert.equal(m.length, 216);
  assert.deepEqual([...m.subarray(130, 132)], [3, 0]);
  assert.deepEqual([...m.subarray(136, 139)], [97, 98, 99]);
  assert.throws(() => md5sig("192.0.2.1", "x".repeat(81)), /at most 80/);
});
