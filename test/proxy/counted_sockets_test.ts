// CountedSockets: live sockets plus the bytes of the forgotten ones, each counted once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { CountedSockets } from "../../src/proxy/counted_sockets.ts";

test("totals include live sockets and forgotten ones, once; a socket that was not here counts nothing", async () => {
  const server = createServer((s) => s.on("data", (d: Buffer) => s.write(Buffer.concat([d, d]))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const exchange = (text: string) =>
    new Promise<Socket>((resolve) => {
      const c = connect(port, "127.0.0.1", () => c.write(text));
      c.once("data", () => resolve(c));
    });
  const set = new CountedSockets();
  const a = await exchange("abc"); // 3 written, 6 read
  const b = await exchange("hello"); // 5 written, 10 read
  set.add(a);
  set.add(b);
  assert.deepEqual([set.bytesWritten(), set.bytesRead()], [8, 16]);
  assert.equal(set.forget(a), true);
  assert.equal(set.forget(a), false, "forgotten once");
  assert.deepEqual([set.bytesWritten(), set.bytesRead(), set.size], [8, 16, 1]);
  const stranger = await exchange("x");
  assert.equal(set.forget(stranger), false);
  assert.deepEqual([set.bytesWritten(), set.bytesRead()], [8, 16]);
  for (const s of [a, b, stranger]) s.destroy();
  await new Promise((r) => server.close(r));
});
