// sd_notify with a real unix datagram socket: the built binary's READY, STATUS, a reload's
// RELOADING/READY, WATCHDOG while healthy and none while stopped, STOPPING; and a process whose
// event loop is blocked sends no WATCHDOG=1 meanwhile (on Node and on Deno).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { connect } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/net.ts";
import { TandemProcess } from "../helpers/binary.ts";
import { NotifySocket, type NotifyMessage } from "../helpers/notify_socket.ts";
import { loadLibc } from "../../src/runtime/libc.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WATCHDOG_USEC = 400_000; // a ping every 200 ms

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const watchdogs = (rx: NotifySocket, from: number, to: number) => rx.with("WATCHDOG", "1").filter((m) => m.at > from && m.at < to);

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.on("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

test("the binary under a notify socket: READY once listening, STATUS, WATCHDOG, RELOADING/READY on SIGHUP, no WATCHDOG while stopped, STOPPING", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-sdnotify-"));
  const rx = await NotifySocket.open();
  const [port, dead] = [await freePort(), await freePort()];
  const file = join(dir, "t.yaml");
  writeFileSync(file, `
global: { state_dir: ${dir}/state, grace_period: 1s }
proxies:
  web:
    mode: tcp
    bind: 127.0.0.1:${port}
    servers:
      app: { address: 127.0.0.1, port: ${dead}, check: { interval: 100ms, rise: 1, fall: 1 } }
`);
  const t = new TandemProcess(["--config", file, "--role", "master"], { cwd: dir, env: { NOTIFY_SOCKET: rx.address, WATCHDOG_USEC: String(WATCHDOG_USEC) } });
  try {
    const ready = await rx.waitFor((m) => m.fields.READY === "1");
    // READY=1 means the listener is bound: a connection succeeds at once.
    assert.equal(await connects(port), true, "READY=1 came before the listener was bound");
    assert.match(ready.fields.STATUS, /^master, running; /);
    // The server never answers: the status line says so.
    await rx.waitFor((m) => /1 server down: web\/app/.test(m.fields.STATUS ?? ""), 5000);

    await sleep(1000);
    const pings = watchdogs(rx, ready.at, ready.at + 1000);
    assert.ok(pings.length >= 3 && pings.length <= 7, `${pings.length} WATCHDOG=1 in 1 s, expected about 5`);

    const before = loadLibc().monotonicUsec();
    const mark = rx.messages.length;
    t.signal("SIGHUP");
    const reloading = await rx.waitFor((m) => m.fields.RELOADING === "1", 5000, mark);
    const usec = BigInt(reloading.fields.MONOTONIC_USEC);
    assert.ok(usec >= before && usec <= loadLibc().monotonicUsec(), `MONOTONIC_USEC ${usec} is not CLOCK_MONOTONIC now (${before})`);
    const reloaded = await rx.waitFor((m) => m.fields.READY === "1", 5000, rx.messages.indexOf(reloading) + 1);
    assert.match(reloaded.fields.STATUS, /^master, running; /);

    // A stopped process (the loop cannot run at all) sends nothing; systemd would restart it.
    t.signal("SIGSTOP");
    const stoppedAt = Date.now();
    await sleep(1000);
    t.signal("SIGCONT");
    const contAt = Date.now();
    assert.deepEqual(watchdogs(rx, stoppedAt + 50, contAt).map((m) => m.at), [], "WATCHDOG=1 while the process was stopped");
    await rx.waitFor((m) => m.fields.WATCHDOG === "1" && m.at > contAt, 2000);

    const beforeStop = rx.messages.length;
    assert.equal(await t.stop(), 0, t.stderr);
    const stopping = await rx.waitFor((m) => m.fields.STOPPING === "1", 2000, beforeStop);
    assert.match(stopping.fields.STATUS, /^master, stopping; /);
  } finally {
    await t.stop();
    rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const runtime of ["node", "deno"] as const) {
  test(`${runtime}: no WATCHDOG=1 while the event loop is blocked, pings before and after; children do not inherit NOTIFY_SOCKET`, async () => {
    const rx = await NotifySocket.open({ abstract: true });
    try {
      const child = join(ROOT, "test/integration/sd_notify_child.ts");
      const cmd = runtime === "node" ? [join(ROOT, "node_modules/.bin/node"), child] : [join(ROOT, "node_modules/.bin/deno"), "run", "-A", `--config=${join(ROOT, "deno.json")}`, child];
      const r = spawnSync(cmd[0], [...cmd.slice(1), "1000"], {
        // A ping every 100 ms: several before and after the block, within 600 ms each.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", NOTIFY_SOCKET: rx.address, WATCHDOG_USEC: "200000" },
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const block = Number(/block (\d+)/.exec(r.stdout)![1]);
      const unblock = Number(/unblock (\d+)/.exec(r.stdout)![1]);
      assert.match(r.stdout, /inherited NOTIFY_SOCKET=\n/);
      await rx.waitFor((m) => m.fields.STOPPING === "1", 5000);
      const at = (m: NotifyMessage) => m.at;
      assert.ok(watchdogs(rx, block - 600, block).length >= 3, `too few pings before the block: ${rx.with("WATCHDOG").map(at)}`);
      // The one timer that was due during the block fires right after it, not during it.
      assert.deepEqual(watchdogs(rx, block + 50, unblock).map(at), [], `WATCHDOG=1 while blocked (${block}..${unblock})`);
      assert.ok(watchdogs(rx, unblock, unblock + 600).length >= 3, "pings did not resume after the block");
    } finally {
      rx.close();
    }
  });
}
