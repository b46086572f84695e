// One datagram to a unix socket over the libc seam (Node: node:ffi; Deno: Deno.dlopen), received by
// an independent Python socket: a path, an abstract name, and nobody listening.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendUnixDatagram, sockaddrUn } from "../../src/runtime/unix_datagram.ts";
import { SyscallError } from "../../src/runtime/libc.ts";
import { NotifySocket } from "../helpers/notify_socket.ts";

test("sockaddr_un: a path is NUL-terminated in a full sun_path; an abstract name starts with NUL and is not", () => {
  const p = sockaddrUn("/run/x");
  assert.equal(p.length, 110);
  assert.deepEqual([...p.subarray(0, 9)], [1, 0, ...new TextEncoder().encode("/run/x"), 0]);
  const a = sockaddrUn("@sd");
  assert.deepEqual([...a], [1, 0, 0, 115, 100]);
  assert.throws(() => sockaddrUn(""), TypeError);
  assert.throws(() => sockaddrUn("@"), TypeError);
  assert.throws(() => sockaddrUn("/" + "x".repeat(107)), TypeError);
  assert.equal(sockaddrUn("/" + "x".repeat(106)).length, 110);
});

for (const abstract of [false, true]) {
  test(`a datagram reaches a receiver bound to ${abstract ? "an abstract name" : "a socket file"}`, async () => {
    const rx = await NotifySocket.open({ abstract });
    try {
      sendUnixDatagram(rx.address, new TextEncoder().encode("READY=1\nSTATUS=hello, wörld\n"));
      const m = await rx.waitFor((x) => x.fields.READY === "1", 5000);
      assert.equal(m.fields.STATUS, "hello, wörld");
    } finally {
      rx.close();
    }
  });
}

test("nobody listening: SyscallError ENOENT (file) or ECONNREFUSED (abstract), never a crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-unix-"));
  try {
    assert.throws(() => sendUnixDatagram(join(dir, "nobody.sock"), Uint8Array.of(1)), (e: unknown) => e instanceof SyscallError && e.errno === 2);
    assert.throws(() => sendUnixDatagram(`@tandem-nobody-${process.pid}-${Math.random()}`, Uint8Array.of(1)), (e: unknown) => e instanceof SyscallError && e.errno === 111);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
