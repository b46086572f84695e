// kill -9 of a proxy worker (global.workers: 2) under load, through the built binary in a network namespace of its own.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { isCi } from "./vrrp_lab.ts";

const isRoot = process.getuid?.() === 0;
const CLIENTS = 16;

/**
 * In a namespace of its own because tandem (as root) sets net.ipv4.tcp_migrate_req there. What
 * the clients can see: the requests the dead process had accepted are lost (their sockets die with
 * it: a reset, at most one per client here); connections queued on its listeners go to the main
 * process (tcp_migrate_req); new ones go there at once (its listeners left the SO_REUSEPORT group
 * when it died). The main process logs the death and starts the worker again at once.
 */
test("kill -9 of a proxy worker under load: only requests it held fail; noticed at once and started again", { skip: !isRoot && !isCi() && "needs root for a network namespace" }, () => {
  const ns = `tdm-crash-${process.pid}-${randomBytes(3).toString("hex")}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
    const child = new URL("./proxy_worker_crash_child.ts", import.meta.url).pathname;
    const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, child, String(CLIENTS)], { encoding: "utf8", timeout: 60_000 });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    assert.ok(line.startsWith("{"), `no result from the child: ${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(line) as { error?: string; log: string; sysctlBefore: string; sysctlAfter: string; requests: number; failedBefore: string[]; failedAfter: string[]; restartedMs: number; worker: number; workersNow: number[]; mainRunning: boolean };
    assert.equal(out.error, undefined, `${out.error}\n${out.log}`);
    process.stdout.write(`# kill -9 of a worker under ${CLIENTS} clients: ${out.requests} requests, ${out.failedAfter.length} failed ${JSON.stringify(out.failedAfter)}, started again after ${out.restartedMs} ms\n`);
    assert.deepEqual([out.sysctlBefore, out.sysctlAfter], ["0", "1"], "tandem turned tcp_migrate_req on in its namespace");
    assert.match(out.log, /Proxy worker 1 \(pid \d+\) died \(SIGKILL\): new connections go to the other processes, the ones it held are lost; starting it again\n/);
    assert.ok(out.restartedMs >= 0, `started again:\n${out.log}`);
    assert.deepEqual(out.failedBefore, []);
    assert.ok(out.requests > 200, `${out.requests} requests`);
    // At most the requests in flight in the dead process: one per client.
    assert.ok(out.failedAfter.length <= CLIENTS, JSON.stringify(out.failedAfter));
    assert.equal(out.workersNow.length, 1);
    assert.notEqual(out.workersNow[0], out.worker);
    assert.ok(out.mainRunning);
  } finally {
    execFileSync("ip", ["netns", "del", ns]);
  }
});
