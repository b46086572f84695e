// `tandem ctl` against the running binary: every runtime-API command, errors, and state kept over reloads.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AdminLab, whoAnswers } from "../helpers/admin_lab.ts";
import { createServer } from "node:net";
import { runTandem, runTandemAsync } from "../helpers/binary.ts";
import { freePort, listen } from "../helpers/net.ts";
import { parseHaproxyCsv } from "../helpers/formats.ts";

const lab = new AdminLab();

/** The line of `show servers` for one server, as columns. */
async function serverRow(name: string): Promise<string[]> {
  const r = await lab.ctl("show", "servers", "web");
  assert.equal(r.code, 0, r.err);
  const line = r.out.split("\n").find((l) => l.startsWith(`web/${name} `));
  assert.ok(line, r.out);
  return line.split(/\s+/);
}
const status = async (name: string) => (await serverRow(name))[2];
const weight = async (name: string) => Number((await serverRow(name))[3]);

describe("tandem ctl against dist/tandem", () => {
  before(async () => {
    await lab.start();
    assert.ok(await lab.until(async () => (await status("s1")) === "UP" && (await status("s2")) === "UP"), "servers come up");
  });
  after(() => lab.stop());

  it("help lists the commands", async () => {
    const r = await lab.ctl("help");
    assert.equal(r.code, 0);
    for (const c of ["show info", "show stat", "show servers", "show vrrp", "show table", "disable server", "enable server", "set server", "set weight", "clear table", "vrrp demote", "reload"]) {
      assert.ok(r.out.includes(c), c);
    }
  });

  it("show info: process, role, counts", async () => {
    const r = await lab.ctl("show", "info");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Name: tandem$/m);
    assert.match(r.out, new RegExp(`^Pid: ${lab.process!.child.pid}$`, "m"));
    assert.match(r.out, /^Role: master$/m);
    assert.match(r.out, /^Servers_up: 2$/m);
    assert.match(r.out, /^Vrrp_state: disabled$/m);
  });

  it("--config finds the socket from global.admin_socket", async () => {
    const r = await lab.ctl("--config", lab.file, "show", "info");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Name: tandem$/m);
  });

  it("show stat: haproxy CSV with sessions and bytes after traffic", async () => {
    for (let i = 0; i < 4; i++) assert.match(await whoAnswers(lab.proxyPort), /^s[12]$/);
    // With several proxy workers (global.workers: auto) counters arrive within ~1 s.
    let rows: Record<string, string>[] = [];
    const counted = await lab.until(async () => {
      const r = await lab.ctl("show", "stat");
      assert.equal(r.code, 0, r.err);
      rows = parseHaproxyCsv(r.out + "\n");
      // The first health check of each server may still be under way: wait for its result too.
      return rows.find((x) => x.svname === "FRONTEND")?.stot === "4" && rows.filter((x) => x.type === "2").every((x) => x.check_status !== "");
    }, 4000);
    assert.ok(counted, JSON.stringify(rows));
    const fe = rows.find((x) => x.svname === "FRONTEND")!;
    assert.equal(fe.pxname, "web");
    assert.equal(fe.stot, "4");
    const servers = rows.filter((x) => x.type === "2");
    assert.deepEqual(servers.map((x) => x.svname), ["s1", "s2"]);
    const total = servers.reduce((n, x) => n + Number(x.stot), 0);
    assert.equal(total, 4);
    // "hi" (2 bytes) to the server, "sN:hi" (5 bytes) back, per connection.
    assert.equal(servers.reduce((n, x) => n + Number(x.bin), 0), 8);
    assert.equal(servers.reduce((n, x) => n + Number(x.bout), 0), 20);
    assert.ok(servers.every((x) => x.check_status === "L4OK" && x.status === "UP"), JSON.stringify(servers));
    assert.equal(rows.find((x) => x.svname === "BACKEND")!.weight, "3");
  });

  it("show table lists tables and entries; clear table empties one", async () => {
    const all = await lab.ctl("show", "table");
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /^# table: web, used: 1$/m);
    const one = await lab.ctl("show", "table", "web");
    assert.match(one.out, /^key=127\.0\.0\.1 server=s[12] exp=\d+ms$/m);
    const clear = await lab.ctl("clear", "table", "web");
    assert.equal(clear.code, 0, clear.err);
    assert.match((await lab.ctl("show", "table", "web")).out, /^# table: web, used: 0$/);
    const missing = await lab.ctl("show", "table", "nope");
    assert.equal(missing.code, 3);
    assert.equal(missing.err, "No such table: nope");
  });

  it("disable/enable server and set server state ready|drain|maint change what the proxy does", async () => {
    assert.equal((await lab.ctl("clear", "table", "web")).code, 0);
    assert.equal((await lab.ctl("disable", "server", "web/s2")).code, 0);
    assert.equal(await status("s2"), "MAINT");
    for (let i = 0; i < 3; i++) assert.equal(await whoAnswers(lab.proxyPort), "s1");
    assert.equal((await lab.ctl("enable", "server", "web/s2")).code, 0);
    assert.equal(await status("s2"), "UP");
    assert.equal((await lab.ctl("clear", "table", "web")).code, 0);
    assert.equal((await lab.ctl("set", "server", "web/s1", "state", "drain")).code, 0);
    assert.equal(await status("s1"), "DRAIN");
    assert.equal(await whoAnswers(lab.proxyPort), "s2");
    assert.equal((await lab.ctl("set", "server", "web/s1", "state", "maint")).code, 0);
    assert.equal(await status("s1"), "MAINT");
    assert.equal((await lab.ctl("set", "server", "web/s1", "state", "ready")).code, 0);
    assert.equal(await status("s1"), "UP");
    assert.equal(await weight("s1"), 2, "ready restores the configured weight");
  });

  it("set weight and set server weight", async () => {
    assert.equal((await lab.ctl("set", "weight", "web/s1", "5")).code, 0);
    assert.equal(await weight("s1"), 5);
    assert.equal((await lab.ctl("set", "server", "web/s1", "weight", "7")).code, 0);
    assert.equal(await weight("s1"), 7);
    assert.equal((await lab.ctl("set", "weight", "web/s1", "2")).code, 0);
  });

  it("clear errors for unknown commands, objects and values", async () => {
    const cases: [string[], RegExp][] = [
      [["disable", "server", "web/nope"], /^No such server: web\/nope$/],
      [["set", "weight", "nope/s1", "3"], /^No such server: nope\/s1$/],
      [["set", "weight", "web/s1", "999"], /^Weight "999" is out of range \(must be 0\.\.256\)$/],
      [["set", "server", "web/s1", "state", "sideways"], /^Unknown state "sideways": must be ready, drain or maint$/],
      [["enable", "server", "s1"], /^Expected PROXY\/SERVER, got "s1"$/],
      [["frobnicate"], /^Unknown command "frobnicate": type "help" for the list$/],
      [["show", "nothing"], /^Wrong arguments in "show nothing"/],
      [["show", "vrrp"], /^VRRP is not configured$/],
      [["vrrp", "demote"], /^VRRP is not configured$/],
    ];
    for (const [argv, re] of cases) {
      const r = await lab.ctl(...argv);
      assert.equal(r.code, 3, argv.join(" "));
      assert.match(r.err, re, argv.join(" "));
      assert.equal(r.out, "");
    }
  });

  it("manual states and weights survive a reload (the reload command and SIGHUP)", async () => {
    assert.equal((await lab.ctl("disable", "server", "web/s2")).code, 0);
    assert.equal((await lab.ctl("set", "weight", "web/s1", "9")).code, 0);
    writeFileSync(lab.file, lab.yaml("    maxconn: 500\n"));
    const r = await lab.ctl("reload");
    if (r.err === "Reload is not available in this process") {
      // The daemon did not hand its reload to services.reload: reload with SIGHUP only.
      const mark = lab.process!.stderr.length;
      lab.process!.signal("SIGHUP");
      await lab.process!.waitFor(/config\.reloaded/, 5000, mark);
    } else {
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, "Configuration reloaded");
    }
    assert.equal(await status("s2"), "MAINT");
    assert.equal(await weight("s1"), 9);
    const mark = lab.process!.stderr.length;
    lab.process!.signal("SIGHUP");
    await lab.process!.waitFor(/config\.reloaded/, 5000, mark);
    assert.equal(await status("s2"), "MAINT");
    assert.equal(await weight("s1"), 9);
    writeFileSync(lab.file, lab.yaml("    bogus: 1\n"));
    const bad = await lab.ctl("reload");
    if (bad.err !== "Reload is not available in this process") {
      assert.equal(bad.code, 3);
      assert.match(bad.err, /^Reload failed, keeping the running configuration:\n {2}\S*tandem\.yaml:\d+:\d+: error: unknown key "bogus"/);
    }
    writeFileSync(lab.file, lab.yaml());
    await lab.ctl("enable", "server", "web/s2");
    await lab.ctl("set", "weight", "web/s1", "2");
  });

  it("a valid config whose new bind port is taken: not applied, `tandem ctl reload` says why and exits 3, config_reload_failed", async () => {
    const blocker = createServer();
    await listen(blocker, await freePort());
    const taken = (blocker.address() as { port: number }).port;
    try {
      writeFileSync(lab.file, lab.yaml(`    maxconn: 77\n  extra:\n    bind: 127.0.0.1:${taken}\n    servers: { x: { address: 127.0.0.1, port: 1 } }\n`));
      const mark = lab.process!.stderr.length;
      const r = await runTandemAsync(["ctl", "--socket", lab.socket, "reload"]);
      if (/not available in this build/.test(r.stderr)) throw new Error("`ctl` is not wired into main.ts");
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `Reload failed, keeping the running configuration:\n  proxy: Cannot bind "extra" on 127.0.0.1:${taken}: address already in use\n`);
      await lab.process!.waitFor(/config\.reload_failed/, 5000, mark);
      const log = lab.process!.stderr.slice(mark);
      assert.match(log, /reload failed, keeping the running configuration: proxy: Cannot bind "extra"/);
      assert.doesNotMatch(log, /config\.reloaded|Proxy reloaded/);
      // The running configuration still serves, unchanged (no proxy "extra", web without maxconn 77).
      assert.match(await whoAnswers(lab.proxyPort), /^s[12]$/);
      const stat = await lab.ctl("show", "stat");
      assert.doesNotMatch(stat.out, /^extra,/m);
      // The same for the stats page moving to a taken port: the page stays where it was.
      writeFileSync(lab.file, lab.yaml().replace(`bind: 127.0.0.1:${lab.statsPort}`, `bind: 127.0.0.1:${taken}`));
      const moved = await runTandemAsync(["ctl", "--socket", lab.socket, "reload"]);
      assert.equal(moved.status, 3, moved.stdout + moved.stderr);
      assert.match(moved.stderr, new RegExp(`^Reload failed, keeping the running configuration:\\n {2}admin: .*127\\.0\\.0\\.1:${taken}`));
      assert.equal((await fetch(lab.statsUrl)).status, 200);
    } finally {
      writeFileSync(lab.file, lab.yaml());
      await new Promise((r) => blocker.close(r));
    }
  });

  it("usage and connection errors exit 2, 1 and 3 with a message", async () => {
    assert.equal((await lab.ctl("--socket", lab.socket)).code, 2);
    assert.equal((await lab.ctl("--bogus", "x", "show", "info")).code, 2);
    assert.equal((await lab.ctl("--socket", lab.socket, "--config", lab.file, "help")).code, 2);
    const nocfg = await lab.ctl("--config", join(lab.dir, "missing.yaml"), "help");
    assert.equal(nocfg.code, 1);
    assert.match(nocfg.err, /Cannot read config ".*missing\.yaml": no such file/);
    const nosock = await lab.ctl("--socket", join(lab.dir, "none.sock"), "help");
    assert.equal(nosock.code, 3);
    assert.match(nosock.err, /Cannot talk to the admin socket ".*none\.sock": no such socket \(is tandem running, with global\.admin_socket set\?\)/);
  });

  it("the binary's own `tandem ctl` subcommand talks to the socket", async (t) => {
    const r = runTandem(["ctl", "--socket", lab.socket, "show", "info"]);
    if (/not available in this build/.test(r.stderr)) return t.skip("`ctl` is not wired into main.ts yet");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Name: tandem$/m);
    const bad = runTandem(["ctl", "--socket", lab.socket, "disable", "server", "web/zz"]);
    assert.equal(bad.status, 3);
    assert.equal(bad.stderr, "No such server: web/zz\n");
  });

  it("the socket file is removed on stop", async () => {
    assert.equal(existsSync(lab.socket), true);
    assert.equal(await lab.process!.stop(), 0);
    assert.equal(existsSync(lab.socket), false);
  });
});
