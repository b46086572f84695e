// The linux-arm64 binary (cross-built on this machine) under qemu user mode: --version, --check of
// the reference config (the same summary as this machine's binary), a TCP proxy on loopback, and
// libc through node:ffi (a READY=1 datagram).
// Builds dist/tandem-linux-arm64 first when its inputs changed (scripts/build.ts keeps it otherwise).

import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { firstLine, freePort, listen } from "../helpers/net.ts";
import { TandemProcess, tandemBinary } from "../helpers/binary.ts";
import { NotifySocket } from "../helpers/notify_socket.ts";
import { TARGETS, runner } from "../../scripts/targets.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ARM64 = TARGETS["linux-arm64"];
const BINARY = join(ROOT, "dist", "tandem-linux-arm64");
const SEED = join(ROOT, "test/fixtures/exchange.yaml");
const ci = !["", "false", "0"].includes(process.env.CI ?? "");

function hasQemu(): boolean {
  return spawnSync(ARM64.emulator![0], ["--version"], { stdio: "ignore" }).status === 0;
}

// Under CI a missing qemu fails the run (see before) rather than skipping it.
const skip = !ci && !hasQemu() && "qemu-aarch64-static is not installed (apt-get install qemu-user-static libc6-arm64-cross ...)";
const run = (args: string[], env: Record<string, string> = {}) => {
  const [cmd, ...pre] = runner(ARM64, BINARY);
  return spawnSync(cmd, [...pre, ...args], { encoding: "utf8", env, timeout: 60_000 });
};

before(() => {
  if (skip) return;
  if (!hasQemu()) throw new Error("qemu-aarch64-static is not installed; CI is set, so this test fails instead of skipping");
  execFileSync(join(ROOT, "node_modules/.bin/node"), [join(ROOT, "scripts/build.ts"), "--target", "linux-arm64"], { stdio: ["ignore", "ignore", "inherit"], timeout: 300_000 });
});

test("arm64: an aarch64 executable; --version", { skip }, () => {
  const header = execFileSync("readelf", ["-h", BINARY], { encoding: "utf8" });
  assert.match(header, /Machine:\s+AArch64/);
  const r = run(["--version"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^tandem \d+\.\d+\.\d+\n$/);
});

test("arm64: --check of the reference config prints what this machine's binary prints", { skip }, () => {
  const r = run(["--config", SEED, "--check"]);
  assert.equal(r.status, 0, r.stderr);
  const native = spawnSync(tandemBinary(), ["--config", SEED, "--check"], { encoding: "utf8", env: {} });
  assert.equal(r.stdout, native.stdout);
});

test("arm64: a TCP proxy on loopback answers through the emulated binary; node:ffi works in it (sd_notify READY=1)", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-arm64-"));
  const server = createServer((c) => {
    c.on("error", () => {});
    c.end("hello from the server\n");
  });
  const [port, serverPort] = [await freePort(), await freePort()];
  await listen(server, serverPort);
  const file = join(dir, "t.yaml");
  writeFileSync(file, `
global: { state_dir: ${dir}/state, grace_period: 1s }
proxies:
  web:
    mode: tcp
    bind: 127.0.0.1:${port}
    servers:
      app: { address: 127.0.0.1, port: ${serverPort} }
`);
  // READY=1 goes through libc via node:ffi (src/runtime/), as VRRP's sockets do.
  const notify = await NotifySocket.open();
  const t = new TandemProcess(["--config", file, "--role", "master"], { cwd: dir, command: runner(ARM64, BINARY), env: { NOTIFY_SOCKET: notify.address } });
  try {
    await t.waitFor(/tandem started/, 60_000);
    assert.equal(await firstLine(port), "hello from the server");
    assert.match((await notify.waitFor((m) => m.fields.READY === "1", 10_000)).fields.STATUS, /^master, running/);
    assert.equal(await t.stop(10_000), 0, t.stderr);
  } finally {
    await t.stop();
    notify.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
