// The notify protocol's messages and watchdog timing, on a fake clock (the real socket: test/integration/sd_notify_test.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { createServiceNotifier, watchdogPeriodMs } from "../../src/cli/sd_notify.ts";

function setup(env: Record<string, string>, fail = false) {
  const clock = new FakeClock();
  const sent: { at: number; socket: string; message: string }[] = [];
  const errors: string[] = [];
  const n = createServiceNotifier({
    env, pid: 42, clock,
    send: (socket, message) => {
      if (fail) throw new Error("sendto failed: errno 2 (ENOENT)");
      sent.push({ at: clock.now(), socket, message });
    },
    monotonicUsec: () => 123456789n,
    onError: (m) => errors.push(m),
  });
  return { n, clock, sent, errors };
}

test("no NOTIFY_SOCKET: no notifier", () => {
  assert.equal(setup({}).n, undefined);
});

test("lifecycle messages: READY with STATUS, RELOADING with MONOTONIC_USEC, STOPPING; one line of status", () => {
  const { n, sent } = setup({ NOTIFY_SOCKET: "@sd" });
  n!.ready("master, running");
  n!.reloading("master, reloading");
  n!.ready("master, running");
  n!.status("line one\nline two");
  n!.stopping("master, stopping");
  n!.close();
  n!.status("after close");
  assert.deepEqual(sent.map((s) => s.message), [
    "READY=1\nSTATUS=master, running\n",
    "RELOADING=1\nMONOTONIC_USEC=123456789\nSTATUS=master, reloading\n",
    "READY=1\nSTATUS=master, running\n",
    "STATUS=line one line two\n",
    "STOPPING=1\nSTATUS=master, stopping\n",
  ]);
  assert.ok(sent.every((s) => s.socket === "@sd"));
});

test("watchdog: WATCHDOG=1 at once and every half of WATCHDOG_USEC, until close", () => {
  const { n, clock, sent } = setup({ NOTIFY_SOCKET: "/run/sd", WATCHDOG_USEC: "2000000" });
  clock.advance(3500);
  assert.deepEqual(sent.filter((s) => s.message === "WATCHDOG=1\n").map((s) => s.at), [0, 1000, 2000, 3000]);
  n!.close();
  clock.advance(5000);
  assert.equal(sent.length, 4);
  assert.equal(clock.pending, 0);
});

test("watchdog period: half the timeout, capped at 30 s; none for another pid, zero or garbage", () => {
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: "20000000" }, 1), 10_000);
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: "600000000" }, 1), 30_000);
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: "1" }, 1), 10_000);
  assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: "7" }, 1), undefined);
  for (const bad of ["", "0", "-5", "1e6", "abc"]) assert.equal(watchdogPeriodMs({ WATCHDOG_USEC: bad }, 1), undefined, bad);
  assert.equal(watchdogPeriodMs({}, 1), undefined);
});

test("a failing socket is reported once per kind of message, never thrown", () => {
  const { n, clock, errors } = setup({ NOTIFY_SOCKET: "/run/gone", WATCHDOG_USEC: "1000000" }, true);
  n!.ready("x");
  n!.ready("x");
  clock.advance(5000);
  assert.deepEqual(errors, [
    'Cannot notify the service manager (WATCHDOG) on "/run/gone": sendto failed: errno 2 (ENOENT)',
    'Cannot notify the service manager (READY) on "/run/gone": sendto failed: errno 2 (ENOENT)',
  ]);
  n!.close();
});
