// `tandem ctl show vrrp` and `vrrp demote` against two running binaries in a namespace lab.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCtl } from "../../src/cli/ctl.ts";
import { canRunLab, Lab, labScenario, started, VIP, waitFor, type LbProcess } from "./vrrp_lab.ts";

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
