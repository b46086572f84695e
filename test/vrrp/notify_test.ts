// Tests for notify commands: keepalived-style arguments, order, timeout.

import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyQueue, runCommand } from "../../src/vrrp/notify.ts";

test("runs in order with INSTANCE name STATE priority", async () => {
  const out: string[] = [];
  const q = new NotifyQueue(2000, (_c, r) => out.push(r.output.trim()));
  q.push('sleep 0.1; echo "$1 $2 $3 $4"', "VI_1", "master", 100);
  q.push('echo "$3"', "VI_1", "backup", 50);
  await q.drain();
  assert.deepEqual(out, ["INSTANCE VI_1 MASTER 100", "BACKUP"]);
});

test("a hanging command is killed at the timeout; failures are reported, not thrown", async () => {
  const t0 = performance.now();
  const r = await runCommand("sleep 10", [], 200);
  assert.equal(r.ok, false);
  assert.match(r.reason, /timeout after 200ms/);
  assert.ok(performance.now() - t0 < 2000);
  const e = await runCommand("exit 3", [], 1000);
  assert.deepEqual([e.ok, e.reason], [false, "exit 3"]);
});
