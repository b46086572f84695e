// VRRP between two tandem instances in namespaces: election, kill -9, SIGTERM, preemption, tracking.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Lab, labVrrp, waitFor, canRunLab, VIP, type LbProcess } from "./vrrp_lab.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
});
after(async () => {
  await lab?.destroy();
});

const MASTER = labVrrp({ priority: 100 });
const BACKUP = labVrrp({ priority: 50 });
/** Backup's Master_Down_Interval (v3, 200 ms adverts, priority 50). */
const MDI = masterDownInterval({ version: 3, advertInterval: 200, preempt: true, preemptDelay: 0, primaryIp: "" }, 50, 200);

async function stopAll(...ps: LbProcess[]): Promise<void> {
  for (const p of ps) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  // A killed process leaves its VIP behind; the next start removes it, but tests start clean.
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
}

async function startPair(master = MASTER, backup = BACKUP, env: Record<string, string> = {}) {
  const b = lab.spawnLb("lb2", backup, env);
  await waitFor(() => b.events.some((e) => e.event === "runner.ready"), 3000);
  const a = lab.spawnLb("lb1", master, env);
  const t = await waitFor(() => lab.holds("lb1"), 5000);
  assert.ok(t >= 0, `lb1 never became master:\n${a.output()}`);
  return { a, b };
}

test("two instances: exactly one holds the VIP and the client reaches it", { skip }, async () => {
  const { a, b } = await startPair();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(lab.holds("lb1"), true);
  assert.equal(lab.holds("lb2"), false);
  assert.equal(lab.reach("client"), "refused");
  assert.equal(lab.neigh("client"), lab.mac("lb1"));
  await stopAll(a, b);
});

test("kill -9 the master: backup holds the VIP within Master_Down_Interval + 0.5 s, GARP moves the client", { skip }, async () => {
  const { a, b } = await startPair();
  assert.equal(lab.reach("client"), "refused");
  const t0 = performance.now();
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2"), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `takeover after ${took} ms, limit ${MDI + 500}`);
  const arp = await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 1000, 10);
  assert.ok(arp >= 0, "client's ARP entry did not move to lb2");
  console.log(`# kill -9 takeover ${took.toFixed(0)} ms (MDI ${MDI.toFixed(0)} ms), client ARP after ${(performance.now() - t0).toFixed(0)} ms`);
  // Restart the master: it removes its stale VIP, waits as backup, then preempts back.
  await a.exited;
  const a2 = lab.spawnLb("lb1", MASTER);
  const back = await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 5000);
  assert.ok(back >= 0, `lb1 did not preempt back:\n${a2.output()}`);
  assert.ok(a2.output().includes("left on"), "stale VIP was not reported");
  await stopAll(a2, b);
});

test("preempt: false — a returning higher-priority node stays backup", { skip }, async () => {
  const noPreempt = labVrrp({ priority: 100, preempt: false });
  const b = lab.spawnLb("lb2", BACKUP);
  assert.ok((await waitFor(() => lab.holds("lb2"), 5000)) >= 0);
  const a = lab.spawnLb("lb1", noPreempt);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(lab.holds("lb2"), true);
  assert.equal(lab.holds("lb1"), false);
  await stopAll(a, b);
});

test("SIGTERM the master: priority 0, backup takes over in under 1 s (skew time)", { skip }, async () => {
  const { a, b } = await startPair(labVrrp({ priority: 100, advertInterval: 1000 }), labVrrp({ priority: 50, advertInterval: 1000 }));
  a.child.kill("SIGTERM");
  const took = await waitFor(() => lab.holds("lb2"), 3000, 10);
  assert.ok(took >= 0 && took < 1000, `takeover after ${took} ms`);
  assert.equal(await a.exited, 0);
  assert.equal(lab.holds("lb1"), false, "VIP not removed on stop");
  console.log(`# SIGTERM takeover ${took.toFixed(0)} ms with 1 s adverts`);
  await stopAll(b);
});

test("tracked interface down on the master → Fault, backup takes over; link up → preempts back", { skip }, async () => {
  const track = { interfaces: [{ name: "dummyx", weight: 0 }], scripts: [] };
  lab.exec("lb1", ["ip", "link", "add", "dummyx", "type", "veth", "peer", "name", "dummyy"]);
  lab.exec("lb1", ["ip", "link", "set", "dummyx", "up"]);
  lab.exec("lb1", ["ip", "link", "set", "dummyy", "up"]);
  const { a, b } = await startPair(labVrrp({ priority: 100, track }));
  lab.exec("lb1", ["ip", "link", "set", "dummyx", "down"]);
  assert.ok((await waitFor(() => lab.holds("lb2") && !lab.holds("lb1"), 3000)) >= 0, "no failover on link down");
  assert.ok(a.events.some((e) => e.event === "vrrp.state" && e.to === "fault"));
  lab.exec("lb1", ["ip", "link", "set", "dummyx", "up"]);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 3000)) >= 0, "no preemption after recovery");
  await stopAll(a, b);
  lab.exec("lb1", ["ip", "link", "del", "dummyx"], { allowFail: true });
});

test("proxy unhealthy on the master (weight 0) → Fault and failover; a script weight lowers priority", { skip }, async () => {
  const down = join(lab.dir, "proxy-down");
  const track = { interfaces: [], proxy: { weight: 0, minServers: 1 }, scripts: [] };
  const { a, b } = await startPair(labVrrp({ priority: 100, track }), labVrrp({ priority: 50, track }), { PROXY_DOWN_FILE: down });
  writeFileSync(down, "");
  // Both see the (shared) file: the master faults; the backup faults too, so nobody holds the VIP.
  assert.ok((await waitFor(() => !lab.holds("lb1"), 3000)) >= 0);
  assert.ok(a.events.some((e) => e.event === "vrrp.state" && e.to === "fault" && String(e.reason).includes("proxy")));
  rmSync(down);
  assert.ok((await waitFor(() => lab.holds("lb1"), 3000)) >= 0);
  await stopAll(a, b);

  const failing = join(lab.dir, "script-fail");
  writeFileSync(failing, "");
  const scripts = [{ name: "chk", command: `test ! -e ${failing}`, interval: 100, timeout: 1000, rise: 1, fall: 1, weight: -60 }];
  const p = await startPair(labVrrp({ priority: 100 }), labVrrp({ priority: 50 }));
  await stopAll(p.a);
  const a2 = lab.spawnLb("lb1", labVrrp({ priority: 100, track: { interfaces: [], scripts } }));
  // 100 − 60 = 40 < 50: lb1 stays backup while the script fails, preempts once it passes.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(lab.holds("lb1"), false);
  rmSync(failing);
  assert.ok((await waitFor(() => lab.holds("lb1"), 3000)) >= 0);
  await stopAll(a2, p.b);
});

test("unicast peers: election and kill -9 failover without multicast; VIP label applied", { skip }, async () => {
  const vip = [{ cidr: { address: VIP, prefix: 24, family: 4 as const }, label: "eth0:vip" }];
  const m = labVrrp({ priority: 100, unicastSrc: "192.0.2.11", unicastPeers: ["192.0.2.12"], virtualIps: vip });
  const bk = labVrrp({ priority: 50, unicastSrc: "192.0.2.12", unicastPeers: ["192.0.2.11"], virtualIps: vip });
  const { a, b } = await startPair(m, bk);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(lab.holds("lb2"), false);
  assert.match(lab.exec("lb1", ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]), /eth0:vip/);
  assert.ok(a.output().includes("unicast to 192.0.2.12"));
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2"), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `takeover after ${took} ms`);
  await stopAll(a, b);
});
