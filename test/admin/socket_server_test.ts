import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createConnection, createServer } from "node:net";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdminSocket } from "../../src/admin/socket_server.ts";
import type { CommandResult } from "../../src/admin/runtime_api.ts";
import { nullLogger } from "../../src/core/log.ts";

const dir = mkdtempSync(join(tmpdir(), "tandem-admin-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Echoes commands; "fail" fails, "say" answers with a message. */
const run = async (cmd: string): Promise<CommandResult> =>
  cmd === "fail" ? { text: "No such server: a/b", severity: "err" } : cmd === "say" ? { text: "done", severity: "info" } : { text: `ran ${cmd}` };

/** Writes `send` (then half-closes unless interactive), returns everything read until the server closes. */
function talk(path: string, send: string, interactive = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ path });
    let got = "";
    c.setEncoding("utf8");
    c.on("connect", () => (interactive ? c.write(send) : c.end(send)));
    c.on("data", (d: string) => (got += d));
    c.on("close", () => resolve(got));
    c.on("error", reject);
  });
}

test("one command per connection, ';' runs several, severity prefixes on request; mode applied; file removed on close", async () => {
  const path = join(dir, "a.sock");
  const s = new AdminSocket({ path, mode: 0o640, run, log: nullLogger });
  await s.listen();
  assert.equal(statSync(path).mode & 0o777, 0o640);
  assert.equal(await talk(path, "show x\n"), "ran show x\n\n");
  assert.equal(await talk(path, "a; b\nignored\n"), "ran a\nran b\n\n");
  assert.equal(await talk(path, "fail\n"), "No such server: a/b\n\n");
  assert.equal(await talk(path, "set severity-output string; fail; say; show y\n"), "[err]: No such server: a/b\n[info]: done\nran show y\n\n");
  assert.equal(await talk(path, "no newline"), "ran no newline\n\n");
  await s.close();
  assert.equal(existsSync(path), false);
});

test("prompt keeps the connection open with a '> ' prompt until quit", async () => {
  const path = join(dir, "b.sock");
  const s = new AdminSocket({ path, mode: 0o600, run, log: nullLogger });
  await s.listen();
  const got = await talk(path, "prompt\nshow a\nshow b\nquit\n", true);
  assert.equal(got, "\n> ran show a\n\n> ran show b\n\n> ");
  await s.close();
});

test("a stale socket file is replaced; a live one or a regular file is refused", async () => {
  // A killed process leaves its socket file behind.
  const stale = join(dir, "stale.sock");
  const child = spawn(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`]);
  await new Promise((r) => child.stdout.once("data", r));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.equal(statSync(stale).isSocket(), true);
  const revived = new AdminSocket({ path: stale, mode: 0o600, run, log: nullLogger });
  await revived.listen();
  assert.equal(await talk(stale, "hello\n"), "ran hello\n\n");
  await revived.close();
  const live = join(dir, "live.sock");
  const other = createServer();
  await new Promise<void>((r) => other.listen(live, r));
  try {
    const a = new AdminSocket({ path: live, mode: 0o600, run, log: nullLogger });
    await assert.rejects(a.listen(), /Cannot listen on admin socket ".*live\.sock": another process is listening on it/);
    const file = join(dir, "plain");
    writeFileSync(file, "x");
    await assert.rejects(new AdminSocket({ path: file, mode: 0o600, run, log: nullLogger }).listen(), /the path exists and is not a socket/);
    await assert.rejects(new AdminSocket({ path: join(dir, "nodir", "x.sock"), mode: 0o600, run, log: nullLogger }).listen(), /its directory ".*nodir" does not exist/);
  } finally {
    await new Promise<void>((r) => other.close(() => r()));
  }
});
