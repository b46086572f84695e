// VRRP between two built tandem binaries in namespaces, one YAML for both hosts: election, kill -9,
// SIGTERM, preemption, interface/proxy/script tracking, unicast.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Lab, labScenario, labProxy, waitFor, started, canRunLab, NODE, VIP, type LbProcess } from "./vrrp_lab.ts";
import type { LabScenario } from "./lab_config.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
});
after(async () => {
  await lab?.destroy();
});

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

/** The last VRRP state a process reported ("" before the first transition). */
function lastState(p: LbProcess): string {
  return String(p.events.findLast((e) => e.event === "vrrp.state")?.to ?? "");
}

/**
 * Starts lb2 (--role backup) then lb1 (--role master) from one file; waits until lb1 is master
 * with the VIP and lb2 is a backup without it (with long adverts both may briefly be master).
 */
async function startPair(scenario: LabScenario = labScenario()) {
  const file = lab.writeConfig(scenario);
  const b = lab.spawnLb("lb2", file, "backup");
  await started(b);
  const a = lab.spawnLb("lb1", file, "master");
  const settled = () => lab.holds("lb1") && !lab.holds("lb2") && lastState(a) === "master" && lastState(b) === "backup";
  const t = await waitFor(settled, 10_000);
  assert.ok(t >= 0, `lb1 never became the only master:\n${a.output()}\n${b.output()}`);
  return { a, b, file };
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
  const { a, b, file } = await startPair();
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
  const a2 = lab.spawnLb("lb1", file, "master");
  const back = await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 5000);
  assert.ok(back >= 0, `lb1 did not preempt back:\n${a2.output()}`);
  assert.ok(a2.output().includes("left on"), "stale VIP was not reported");
  await stopAll(a2, b);
});

test("preempt: false — a returning higher-priority node stays backup", { skip }, async () => {
  const file = lab.writeConfig(labScenario({}, { master: { preempt: false } }));
  const b = lab.spawnLb("lb2", file, "backup");
  assert.ok((await waitFor(() => lab.holds("lb2"), 5000)) >= 0);
  const a = lab.spawnLb("lb1", file, "master");
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(lab.holds("lb2"), true);
  assert.equal(lab.holds("lb1"), false);
  await stopAll(a, b);
});

test("SIGTERM the master: priority 0, backup takes over in under 1 s (skew time)", { skip }, async () => {
  const { a, b } = await startPair(labScenario({ advertInterval: 1000 }));
  a.child.kill("SIGTERM");
  const took = await waitFor(() => lab.holds("lb2"), 3000, 10);
  assert.ok(took >= 0 && took < 1000, `takeover after ${took} ms`);
  assert.equal(await a.exited, 0);
  assert.equal(lab.holds("lb1"), false, "VIP not removed on stop");
  console.log(`# SIGTERM takeover ${took.toFixed(0)} ms with 1 s adverts`);
  await stopAll(b);
});

test("tracked interface down on the master → Fault, backup takes over; link up → preempts back", { skip }, async () => {
  // One file for both hosts: both track "dummyx", so both namespaces get one (up).
  const track = { interfaces: [{ name: "dummyx", weight: 0 }], scripts: [] };
  for (const h of ["lb1", "lb2"]) {
    lab.exec(h, ["ip", "link", "add", "dummyx", "type", "veth", "peer", "name", "dummyy"]);
    lab.exec(h, ["ip", "link", "set", "dummyx", "up"]);
    lab.exec(h, ["ip", "link", "set", "dummyy", "up"]);
  }
  const { a, b } = await startPair(labScenario({ track }));
  lab.exec("lb1", ["ip", "link", "set", "dummyx", "down"]);
  assert.ok((await waitFor(() => lab.holds("lb2") && !lab.holds("lb1"), 3000)) >= 0, "no failover on link down");
  assert.ok(a.events.some((e) => e.event === "vrrp.state" && e.to === "fault"));
  lab.exec("lb1", ["ip", "link", "set", "dummyx", "up"]);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 3000)) >= 0, "no preemption after recovery");
  await stopAll(a, b);
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "link", "del", "dummyx"], { allowFail: true });
});

test("proxy unhealthy on the master (its only server dies) → Fault and failover; server back → preempts back", { skip }, async () => {
  // Each lb runs the proxy "web" on VIP:8080 → 127.0.0.1:8081 in its own namespace.
  const track = { interfaces: [], proxy: { weight: 0, minServers: 1 }, scripts: [] };
  const servers = [await lab.serve("lb1", 8081, "app-lb1", "127.0.0.1"), await lab.serve("lb2", 8081, "app-lb2", "127.0.0.1")];
  const { a, b } = await startPair(labScenario({ track }, {}, labProxy(8080, 8081)));
  assert.equal((await fetchLine("client", VIP, 8080)), "app-lb1", "the client does not reach lb1's server through the VIP");
  servers[0].child.kill("SIGKILL");
  await servers[0].exited;
  assert.ok((await waitFor(() => lab.holds("lb2") && !lab.holds("lb1"), 3000)) >= 0, `no failover when lb1's proxy lost its server:\n${a.output()}`);
  assert.ok(a.events.some((e) => e.event === "vrrp.state" && e.to === "fault" && String(e.reason).includes("proxy")), a.output());
  assert.ok(a.events.some((e) => e.event === "server.down" && e.server === "app"));
  assert.equal(b.events.some((e) => e.event === "vrrp.state" && e.to === "fault"), false, "the backup's proxy is healthy");
  assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000)) >= 0, "client ARP did not move");
  assert.equal((await fetchLine("client", VIP, 8080)), "app-lb2");
  servers[0] = await lab.serve("lb1", 8081, "app-lb1", "127.0.0.1");
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 3000)) >= 0, "no preemption once lb1's server is back");
  await stopAll(a, b);
  for (const s of servers) s.child.kill("SIGKILL");
});

test("a track script weight lowers the master's priority below the backup's, and restores it", { skip }, async () => {
  // The same command on both hosts; its file name carries the host ($LAB_HOST), so only lb1's fails.
  const failing = join(lab.dir, "script-fail-lb1");
  writeFileSync(failing, "");
  const scripts = [{ name: "chk", command: `test ! -e ${lab.dir}/script-fail-$LAB_HOST`, interval: 100, timeout: 1000, rise: 1, fall: 1, weight: -60 }];
  const file = lab.writeConfig(labScenario({ track: { interfaces: [], scripts } }));
  const b = lab.spawnLb("lb2", file, "backup");
  assert.ok((await waitFor(() => lab.holds("lb2"), 5000)) >= 0, b.output());
  const a = lab.spawnLb("lb1", file, "master");
  // 100 − 60 = 40 < 50: lb1 stays backup while the script fails, preempts once it passes.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(lab.holds("lb1"), false);
  assert.equal(lab.holds("lb2"), true);
  rmSync(failing);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 3000)) >= 0, a.output());
  await stopAll(a, b);
});

test("unicast peers: election and kill -9 failover without multicast; VIP label applied", { skip }, async () => {
  const vip = [{ cidr: { address: VIP, prefix: 24, family: 4 as const }, label: "eth0:vip" }];
  const { a, b } = await startPair(labScenario({ virtualIps: vip }, {
    master: { unicastSrc: "192.0.2.11", unicastPeers: ["192.0.2.12"] },
    backup: { unicastSrc: "192.0.2.12", unicastPeers: ["192.0.2.11"] },
  }));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(lab.holds("lb2"), false);
  assert.match(lab.exec("lb1", ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]), /eth0:vip/);
  assert.ok(a.output().includes("unicast to 192.0.2.12"));
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2"), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `takeover after ${took} ms`);
  await stopAll(a, b);
});

/** Connects from host `from` to address:port and returns the first line the server sends ("" on failure). */
async function fetchLine(from: string, address: string, port: number): Promise<string> {
  const js = `const s=require("node:net").connect({host:"${address}",port:${port}});let d="";s.setTimeout(1500);` +
    `s.on("data",b=>d+=b);s.on("end",()=>console.log(d.split("\\n")[0]));s.on("timeout",()=>{console.log("timeout");s.destroy()});s.on("error",e=>console.log(e.code))`;
  return lab.exec(from, [NODE, "-e", js], { allowFail: true }).trim();
}
