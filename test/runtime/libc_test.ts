// The libc seam itself, on whichever runtime runs the test (Node: node:ffi; Deno: Deno.dlopen).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { loadLibc } from "../../src/runtime/libc.ts";

test("ifNameToIndex: lo is 1, an unknown name 0", () => {
  const libc = loadLibc();
  assert.equal(libc.ifNameToIndex("lo"), 1);
  assert.equal(libc.ifNameToIndex("no-such-if0"), 0);
});

test("a failing call returns -1 and errno says why", () => {
  const libc = loadLibc();
  assert.equal(libc.socket(12345, 2, 0), -1);
  assert.equal(libc.errno(), 97); // EAFNOSUPPORT
});

test("monotonicUsec is CLOCK_MONOTONIC: it moves forward, and agrees with Node's hrtime and the kernel's uptime", async () => {
  const libc = loadLibc();
  const a = libc.monotonicUsec();
  await new Promise((r) => setTimeout(r, 20));
  const b = libc.monotonicUsec();
  assert.ok(b - a >= 15_000n && b - a < 2_000_000n, `${a} → ${b}`);
  // /proc/uptime is CLOCK_BOOTTIME: the same as MONOTONIC except for time spent suspended.
  const uptimeUsec = BigInt(Math.round(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1e6));
  assert.ok(b <= uptimeUsec + 100_000n, `monotonic ${b} µs is after boottime ${uptimeUsec} µs`);
  if (!("Deno" in globalThis)) {
    // Node's hrtime is libuv's CLOCK_MONOTONIC (Deno's counts from its own start).
    const hr = process.hrtime.bigint() / 1000n;
    const now = libc.monotonicUsec();
    assert.ok(now - hr >= 0n && now - hr < 50_000n, `libc ${now} µs, hrtime ${hr} µs`);
  }
});

test("a non-blocking connect: EINPROGRESS, poll reports it writable, getsockopt(SO_ERROR) says 0", async () => {
  const libc = loadLibc();
  const server = createServer((s) => s.on("error", () => {}));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const fd = libc.socket(2, 1 | 0x800 | 0x80000, 0); // AF_INET, SOCK_STREAM | NONBLOCK | CLOEXEC
  try {
    assert.ok(fd >= 0);
    const addr = new Uint8Array(16);
    new DataView(addr.buffer).setUint16(0, 2, true);
    new DataView(addr.buffer).setUint16(2, port, false);
    addr.set([127, 0, 0, 1], 4);
    const rc = libc.connect(fd, addr);
    assert.ok(rc === 0 || libc.errno() === 115, `connect: ${rc}, errno ${libc.errno()}`); // EINPROGRESS
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, fd, true);
    new DataView(pfd.buffer).setInt16(4, 4, true); // POLLOUT
    assert.equal(libc.poll(pfd, 1, 2000), 1);
    const err = new Uint8Array(4).fill(0xff);
    assert.equal(libc.getsockopt(fd, 1, 4, err), 0); // SOL_SOCKET, SO_ERROR
    assert.equal(new DataView(err.buffer).getInt32(0, true), 0);
  } finally {
    libc.close(fd);
    await new Promise((r) => server.close(r));
  }
});
