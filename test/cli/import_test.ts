// `tandem import` on the command line: output to stdout or -o, notes on stderr, exit codes.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { runImport } from "../../src/cli/import.ts";
import { loadConfigText } from "../../src/tandem_config.ts";
import { FIXTURES } from "../import/fixtures.ts";

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runImport(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err };
}

const f = (name: string) => relative(process.cwd(), join(FIXTURES, name));

test("seed files to stdout: the YAML loads; stderr lists each untranslated directive as file:line", () => {
  const r = run("--haproxy", f("seed_haproxy.cfg"), "--keepalived", f("seed_keepalived_master.conf"), "--keepalived-backup", f("seed_keepalived_backup.conf"), "--crontab", f("seed_crontab"));
  assert.equal(r.code, 0);
  assert.ok(loadConfigText(r.out, "tandem.yaml", "backup").config);
  assert.deepEqual(r.err.filter((l) => l.includes("not translated")), [
    `${f("seed_haproxy.cfg")}:4: not translated: daemon: tandem stays in the foreground; run it under systemd`,
    `${f("seed_haproxy.cfg")}:7: not translated: ulimit-n 81000: set LimitNOFILE= in tandem's systemd unit`,
    `${f("seed_haproxy.cfg")}:37: not translated: option httpclose: the stats page has no such setting`,
  ]);
  assert.ok(r.err.some((l) => /seed_keepalived_master\.conf:15: warning: weight trap/.test(l)));
  // The scripts sit next to the configs: found there.
  assert.match(r.out, /check: \{ vip_held: 192\.168\.8\.248 \}/);
  assert.match(r.out, /proxy: \{ weight: 0, min_servers: 0 \}/);
});

test("-o writes the file and says how much did not carry over", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-import-"));
  try {
    const file = join(dir, "tandem.yaml");
    const r = run("--haproxy", f("unicast_haproxy.cfg"), "-o", file);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.equal(r.out, "");
    assert.match(r.err[r.err.length - 1], /^tandem import: wrote .*tandem\.yaml \(\d+ directives not translated\)$/);
    assert.ok(loadConfigText(readFileSync(file, "utf8"), file, "master").config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a loss that changes routing or weakens security: nothing written, exit 3; --force writes a config that fails closed", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-import-"));
  try {
    const cfg = join(dir, "h.cfg");
    writeFileSync(cfg, "defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:8080\n  http-request deny if { req.body_size gt 100 }\n  default_backend b\nbackend b\n  server s 127.0.0.1:9000\n");
    const file = join(dir, "tandem.yaml");
    const refused = run("--haproxy", cfg, "-o", file);
    assert.equal(refused.code, 3);
    assert.ok(refused.err.some((l) => /h\.cfg:5: refused: http-request deny if .*\(security would be weakened\)$/.test(l)), refused.err.join("\n"));
    assert.match(refused.err.at(-1)!, /nothing written: 1 directive above would be lost/);
    assert.equal(existsSync(file), false);
    const forced = run("--haproxy", cfg, "-o", file, "--force");
    assert.equal(forced.code, 3);
    const yaml = readFileSync(file, "utf8");
    assert.match(yaml, /WRITTEN WITH --force/);
    const config = loadConfigText(yaml, file, "master").config!;
    assert.deepEqual(config.frontends[0].httpRequest[0].action, "deny", "the frontend that lost its guard denies");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a keepalived.conf given as --haproxy, or a directory: a clear message, exit 2", () => {
  const ka = run("--haproxy", f("seed_keepalived_master.conf"));
  assert.equal(ka.code, 2);
  assert.match(ka.err[0], /--haproxy .*seed_keepalived_master\.conf looks like a keepalived\.conf .*pass it as --keepalived/);
  const ha = run("--keepalived", f("seed_haproxy.cfg"));
  assert.equal(ha.code, 2);
  assert.match(ha.err[0], /looks like a haproxy\.cfg/);
  const d = run("--haproxy", FIXTURES);
  assert.equal(d.code, 2);
  assert.match(d.err[0], /Cannot read ".*import": it is a directory, not a file/);
});

test("certificates that are not on this host: written, named, exit 4 (--check would fail here)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-import-"));
  try {
    const cfg = join(dir, "h.cfg");
    writeFileSync(cfg, "defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:8443 ssl crt /nonexistent/site.pem\n  default_backend b\nbackend b\n  server s 127.0.0.1:9000\n");
    const r = run("--haproxy", cfg, "-o", join(dir, "t.yaml"));
    assert.equal(r.code, 4);
    assert.ok(r.err.some((l) => /warning: the certificate \/nonexistent\/site\.pem is not on this host/.test(l)), r.err.join("\n"));
    assert.match(readFileSync(join(dir, "t.yaml"), "utf8"), /crt: \[ \/nonexistent\/site\.pem \]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("files that contradict each other: output still written, exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-import-"));
  try {
    const a = readFileSync(join(FIXTURES, "seed_keepalived_master.conf"), "utf8");
    writeFileSync(join(dir, "a.conf"), a);
    writeFileSync(join(dir, "b.conf"), a.replace("state MASTER", "state BACKUP").replace("priority 100", "priority 50").replace("virtual_router_id 51", "virtual_router_id 52"));
    const r = run("--keepalived", join(dir, "a.conf"), "--keepalived-backup", join(dir, "b.conf"));
    assert.equal(r.code, 1);
    assert.ok(r.err.some((l) => /a\.conf:\d+: error: the keepalived files disagree on virtual_router_id: 51 here, 52 in .*b\.conf:\d+/.test(l)), r.err.join("\n"));
    assert.match(r.out, /virtual_router_id: 51/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("usage errors and unreadable files exit 2 with a message", () => {
  assert.equal(run().code, 2);
  const bad = run("--haproxy");
  assert.equal(bad.code, 2);
  const unknown = run("--haproxy", f("seed_haproxy.cfg"), "--nginx", "x");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err[0], /^tandem import: Unknown option '--nginx'/);
  const missing = run("--haproxy", "/nonexistent/haproxy.cfg");
  assert.equal(missing.code, 2);
  assert.deepEqual(missing.err, ['tandem import: Cannot read "/nonexistent/haproxy.cfg": no such file']);
  const help = run("--help");
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: tandem import --haproxy FILE/);
});
