// The built binary as a user runs it: exit codes, --check, roles, signals, a bare environment.

import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runTandem, tandemBinary, TandemProcess } from "../helpers/binary.ts";

const seed = fileURLToPath(new URL("../fixtures/exchange.yaml", import.meta.url));

test("--version and --help exit 0", () => {
  const v = runTandem(["--version"]);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^tandem \d+\.\d+\.\d+\n$/);
  const h = runTandem(["--help"]);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--config FILE --role master\|backup/);
});

test("--check accepts the seed and prints a summary", () => {
  const r = runTandem(["--config", seed, "--check"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /OK for role master/);
  assert.match(r.stdout, /Exchange2010 \(tcp\): 7 binds → 15 ports on 192\.168\.8\.248/);
  assert.match(r.stdout, /CAS0 192\.168\.8\.151 \(client's port\) weight 1, tcp check port 80 every 5s rise 2 fall 3/);
  assert.match(r.stdout, /vrrp: VI_1, VRID 51, VRRPv2 on eth0/);
  assert.match(r.stdout, /vip-lost: \* \* \* \* \*: vip_held → email \(roles master\)/);
  const b = runTandem(["--config", seed, "--check", "--role", "BACKUP"]);
  assert.equal(b.status, 0);
  assert.match(b.stdout, /this role: backup, priority 50/);
  assert.match(b.stdout, /vip-lost: .* — inactive for this role/);
});

test("--check reports every error with file:line:col and exits 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-cli-"));
  try {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "proxies:\n  a:\n    bind: \":80\"\n    balanse: roundrobin\n    servers: { s: { adress: 127.0.0.1 } }\n");
    const r = runTandem(["--config", file, "--check"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${file}:4:5: error: unknown key "balanse"\\n 4 \\|     balanse: roundrobin\\n   \\|     \\^{7}\\n  hint: did you mean "balance"\\?`));
    assert.match(r.stderr, /:5:21: error: unknown key "adress"/);
    assert.match(r.stderr, /2 errors; the configuration was not accepted/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("usage errors exit 2 and name the roles the file defines", () => {
  const missing = runTandem(["--config", seed]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing --role: this file defines the roles master, backup/);
  const unknown = runTandem(["--config", seed, "--role", "primary"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown role "primary"/);
  assert.equal(runTandem(["--bogus"]).status, 2);
  assert.equal(runTandem([]).status, 2);
  const nofile = runTandem(["--config", "/nonexistent/t.yaml", "--check"]);
  assert.equal(nofile.status, 1);
  assert.match(nofile.stderr, /Cannot read config "\/nonexistent\/t\.yaml": no such file/);
});

test("the binary runs alone from another directory with an empty environment", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-alone-"));
  try {
    const copy = join(dir, "tandem");
    copyFileSync(tandemBinary(), copy);
    writeFileSync(join(dir, "t.yaml"), readFileSync(seed));
    const r = runTandem(["--config", "t.yaml", "--check"], { binary: copy, cwd: dir, env: {} });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /OK for role master/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SIGHUP with a broken file keeps the running config; a fixed file is applied; SIGTERM stops", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-hup-"));
  const file = join(dir, "t.yaml");
  const pidfile = join(dir, "tandem.pid");
  const good = `global: { pidfile: ${pidfile}, state_dir: ${dir} }\n`;
  writeFileSync(file, good);
  const p = new TandemProcess(["--config", file, "--role", "master"]);
  try {
    await p.waitFor(/tandem started/);
    assert.equal(readFileSync(pidfile, "utf8").trim(), String(p.child.pid));
    writeFileSync(file, good + "bogus: 1\n");
    let mark = p.stderr.length;
    p.signal("SIGHUP");
    await p.waitFor(/reload failed, keeping the running configuration/, 5000, mark);
    await p.waitFor(/t\.yaml:2:1: error: unknown key "bogus"/, 5000, mark);
    assert.equal(p.child.exitCode, null, "still running");
    writeFileSync(file, good);
    mark = p.stderr.length;
    p.signal("SIGHUP");
    await p.waitFor(/config\.reloaded/, 5000, mark);
    const code = await p.stop();
    assert.equal(code, 0);
    assert.equal(existsSync(pidfile), false, "pidfile removed on stop");
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
