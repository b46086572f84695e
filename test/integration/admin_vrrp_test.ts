// `tandem ctl show vrrp` and `vrrp demote` against two running binaries in a namespace lab.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCtl } from "../../src/cli/ctl.ts";
import { canRunLab, Lab, labScenario, NODE, started, VIP, VIP2, waitFor, type LbProcess } from "./vrrp_lab.ts";

async function ctl(socket: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCtl(["--socket", socket, ...argv], (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("runtime API: VRRP", { skip: canRunLab() ? false : "needs root for network namespaces" }, () => {
  let lab: Lab;
  let lb1: LbProcess;
  let lb2: LbProcess;
  const sock = (host: string) => join(lab.dir, host, "admin.sock");

  before(async () => {
    lab = new Lab({ lb1: "192.0.2.1", lb2: "192.0.2.2" });
    // Relative to each host's folder, as state_dir: one file serves both hosts.
    const file = lab.writeConfig(labScenario({}, {}, { global: { admin_socket: { path: "admin.sock", mode: "0600" } } }));
    lb1 = lab.spawnLb("lb1", file, "master");
    lb2 = lab.spawnLb("lb2", file, "backup");
    await started(lb1);
    await started(lb2);
    assert.ok((await waitFor(() => lab.holds("lb1"), 5000)) >= 0, "lb1 becomes master");
  });
  after(() => lab?.destroy());

  it("show vrrp and show info report state, priority, VIPs, tracking and the peer", async () => {
    const m = await ctl(sock("lb1"), "show", "vrrp");
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /^Instance: VI_1$/m);
    assert.match(m.out, /^State: master since /m);
    assert.match(m.out, /^Priority: 100 \(base 100\)$/m);
    assert.match(m.out, /^Master: 192\.0\.2\.1$/m);
    assert.match(m.out, new RegExp(`^VIPs: ${VIP.replace(/\./g, "\\.")}/24$`, "m"));
    assert.match(m.out, /^ {2}ok {3}interface eth0 weight 0: /m);
    assert.match(m.out, /^ {2}\S+ state backup -> master \(priority 100\): /m);
    assert.match((await ctl(sock("lb1"), "show", "info")).out, /^Vrrp_state: master$/m);
    // The backup hears the master's adverts.
    const b = await ctl(sock("lb2"), "show", "vrrp");
    assert.match(b.out, /^State: backup since /m);
    assert.match(b.out, /^Master: 192\.0\.2\.1$/m);
    assert.match(b.out, /^Peer_seen: \d+s ago$/m);
  });

  it("vrrp demote hands the VIP to the peer; demoting a backup is refused", async () => {
    const r = await ctl(sock("lb1"), "vrrp", "demote");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'VRRP instance "VI_1" demoted: the peer takes over');
    assert.ok((await waitFor(() => lab.holds("lb2") && !lab.holds("lb1"), 5000)) >= 0, "lb2 takes the VIP");
    const m = await ctl(sock("lb1"), "show", "vrrp");
    assert.match(m.out, /^State: backup since /m);
    assert.match(m.out, /state master -> backup \(priority \d+\): demoted by the operator/);
    const again = await ctl(sock("lb1"), "vrrp", "demote");
    assert.equal(again.code, 3);
    assert.equal(again.err, 'Not demoting: VRRP instance "VI_1" is backup, not master');
  });
});

describe("runtime API, ;json and /metrics: several instances", { skip: canRunLab() ? false : "needs root for network namespaces" }, () => {
  let lab: Lab;
  let lb1: LbProcess;
  let lb2: LbProcess;
  const sock = (host: string) => join(lab.dir, host, "admin.sock");
  /** GETs a stats path from inside a host's namespace (the stats address is that host's loopback). */
  const get = (host: string, path: string) => lab.exec(host, [NODE, "-e", `fetch("http://127.0.0.1:8404${path}").then(r=>r.text()).then(t=>process.stdout.write(t))`]);

  before(async () => {
    lab = new Lab({ lb1: "192.0.2.1", lb2: "192.0.2.2" });
    const a = labScenario({ name: "A" });
    const b = labScenario({ name: "B", vrid: 52, virtualIps: [{ cidr: { address: VIP2, prefix: 24, family: 4 } }] }, { master: { priority: 50 }, backup: { priority: 100 } });
    const file = lab.writeConfig({ ...a, more: [{ master: b.master, backup: b.backup }], sections: { global: { admin_socket: { path: "admin.sock", mode: "0600" } }, stats: { bind: "127.0.0.1:8404", uri: "/stats" } } });
    lb1 = lab.spawnLb("lb1", file, "master");
    lb2 = lab.spawnLb("lb2", file, "backup");
    await started(lb1);
    await started(lb2);
    assert.ok((await waitFor(() => lab.holds("lb1", VIP) && lab.holds("lb2", VIP2) && !lab.holds("lb1", VIP2), 10_000)) >= 0, "active/active");
  });
  after(() => lab?.destroy());

  it("show vrrp lists every instance; show vrrp NAME one; show info names each state", async () => {
    const all = await ctl(sock("lb1"), "show", "vrrp");
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /^Instance: A\nInterface: eth0 VRID 51 IPv4\nState: master since /m);
    assert.match(all.out, /^Instance: B\nInterface: eth0 VRID 52 IPv4\nState: backup since /m);
    const one = await ctl(sock("lb1"), "show", "vrrp", "B");
    assert.doesNotMatch(one.out, /^Instance: A$/m);
    assert.match(one.out, /^Master: 192\.0\.2\.2$/m);
    assert.match((await ctl(sock("lb1"), "show", "info")).out, /^Vrrp_state: A=master B=backup$/m);
    const typo = await ctl(sock("lb1"), "show", "vrrp", "nosuch");
    assert.equal(typo.err, 'No VRRP instance "nosuch": instances are A, B');
  });

  it(";json carries every instance and /metrics one series per instance", async () => {
    const json = JSON.parse(get("lb1", "/stats;json")) as { vrrp: { instance: string; state: string; vrid: number }[] };
    assert.deepEqual(json.vrrp.map((v) => [v.instance, v.state, v.vrid]), [["A", "master", 51], ["B", "backup", 52]]);
    const metrics = get("lb1", "/metrics");
    assert.match(metrics, /^tandem_vrrp_state\{instance="A",state="master"\} 1$/m);
    assert.match(metrics, /^tandem_vrrp_state\{instance="B",state="backup"\} 1$/m);
    assert.match(metrics, /^tandem_vrrp_info\{instance="B",interface="eth0",vrid="52",family="ipv4",sync_group=""\} 1$/m);
  });

  it("vrrp demote NAME hands over that instance only; a backup or an unknown name is refused", async () => {
    const backup = await ctl(sock("lb1"), "vrrp", "demote", "B");
    assert.equal(backup.err, 'Not demoting: VRRP instance "B" is backup, not master');
    const typo = await ctl(sock("lb1"), "vrrp", "demote", "AA");
    assert.equal(typo.err, 'No VRRP instance "AA" (did you mean "A"?): instances are A, B');
    const r = await ctl(sock("lb1"), "vrrp", "demote", "A");
    assert.equal(r.out, 'VRRP instance "A" demoted: the peer takes over');
    assert.ok((await waitFor(() => lab.holds("lb2", VIP) && !lab.holds("lb1", VIP), 5000)) >= 0, "lb2 takes A's VIP");
    assert.equal(lab.holds("lb2", VIP2), true, "B stays on lb2");
    const none = await ctl(sock("lb1"), "vrrp", "demote");
    assert.equal(none.err, "Not demoting: no VRRP instance is master (A backup, B backup)");
  });
});
