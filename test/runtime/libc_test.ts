// The libc seam itself, on whichever runtime runs the test (Node: node:ffi; Deno: Deno.dlopen).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
