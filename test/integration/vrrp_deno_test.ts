// VRRP on Deno (`deno run -A src/main.ts`, raw sockets through Deno.dlopen) against the Node
// build (the binary) and against keepalived, in the namespace lab.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Lab, labScenario, waitFor, started, canRunLab, isCi, VIP, type LbProcess, hasKeepalived } from "./vrrp_lab.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
});
after(async () => {
  await lab?.destroy();
});

const ADVERT = 200;
/** The backup's Master_Down_Interval (v3, 200 ms adverts, priority 50). */
const MDI = masterDownInterval({ version: 3, advertInterval: ADVERT, preempt: true, preemptDelay: 0, primaryIp: "" }, 50, ADVERT);

async function stopAll(...ps: LbProcess[]): Promise<void> {
  // keepalived forks a VRRP child: everything in the host's namespace goes.
  for (const host of ["lb1", "lb2"]) lab.killAll(host);
  for (const p of ps) await p.exited;
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
}

function lastState(p: LbProcess): string {
  return String(p.events.findLast((e) => e.event === "vrrp.state")?.to ?? "");
}

test("a Deno backup and a Node master (the binary): election, kill -9 takeover with gratuitous ARP, preemption back, clean stop", { skip }, async () => {
  const file = lab.writeConfig(labScenario());
  const deno = lab.spawnLb("lb2", file, "backup", {}, { runtime: "deno" });
  await started(deno, 20_000);
  const node = lab.spawnLb("lb1", file, "master");
  const settled = () => lab.holds("lb1") && !lab.holds("lb2") && lastState(node) === "master" && lastState(deno) === "backup";
  assert.ok((await waitFor(settled, 10_000)) >= 0, `lb1 (Node) never became the only master:\n${node.output()}\n${deno.output()}`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(settled(), "the pair did not stay settled");
  assert.equal(deno.output().includes("Dropped VRRP packet"), false, deno.output());
  assert.equal(lab.reach("client"), "refused");
  assert.equal(lab.neigh("client"), lab.mac("lb1"));

  node.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2"), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `Deno took over after ${took} ms (MDI ${MDI.toFixed(0)} ms):\n${deno.output()}`);
  assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000, 10)) >= 0, "client's ARP entry did not move to lb2 (Deno's gratuitous ARP)");
  console.log(`# Deno backup took over ${took.toFixed(0)} ms after kill -9 of the Node master (MDI ${MDI.toFixed(0)} ms)`);

  await node.exited;
  const node2 = lab.spawnLb("lb1", file, "master");
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 5000)) >= 0, `the Node master did not preempt back:\n${node2.output()}\n${deno.output()}`);
  assert.ok((await waitFor(() => lastState(deno) === "backup", 2000)) >= 0, deno.output());

  // A clean stop of the Deno process (as backup) exits 0 and leaves the master alone.
  deno.child.kill("SIGTERM");
  assert.equal(await deno.exited, 0, deno.output());
  assert.ok(lab.holds("lb1"));
  await stopAll(node2, deno);
});

test("a Deno master hands over to the Node backup on SIGTERM (priority 0)", { skip }, async () => {
  const file = lab.writeConfig(labScenario());
  const node = lab.spawnLb("lb2", file, "backup");
  await started(node);
  const deno = lab.spawnLb("lb1", file, "master", {}, { runtime: "deno" });
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2") && lastState(node) === "backup", 20_000)) >= 0, `${deno.output()}\n${node.output()}`);
  const t0 = performance.now();
  deno.child.kill("SIGTERM");
  const took = await waitFor(() => lab.holds("lb2"), 3000, 10);
  // Priority 0: the backup waits Skew_Time (~160 ms), not Master_Down_Interval.
  assert.ok(took >= 0 && took < MDI, `Node backup took over after ${took} ms:\n${node.output()}`);
  assert.equal(await deno.exited, 0, deno.output());
  assert.equal(lab.holds("lb1"), false, "the Deno master left its VIP behind");
  console.log(`# Node backup took over ${(performance.now() - t0).toFixed(0)} ms after SIGTERM of the Deno master`);
  await stopAll(node, deno);
});

function keepalivedConf(priority: number): string {
  return `global_defs {
  router_id ka-lab
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${ADVERT / 1000}
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

test("keepalived master and a Deno backup (VRRPv3): Deno yields, takes over when keepalived dies; keepalived backup yields to Deno", { skip }, async () => {
  if (!hasKeepalived()) {
    if (isCi()) throw new Error("keepalived is not installed (apt-get install keepalived); CI is set, so this test fails instead of skipping");
    return;
  }
  const file = lab.writeConfig(labScenario());
  const ka = lab.spawnKeepalived("lb1", keepalivedConf(100));
  assert.ok((await waitFor(() => lab.holds("lb1"), 5000)) >= 0, ka.output());
  const deno = lab.spawnLb("lb2", file, "backup", {}, { runtime: "deno" });
  await started(deno, 20_000);
  await new Promise((r) => setTimeout(r, MDI + 1000));
  assert.equal(lab.holds("lb2"), false, `Deno did not stay backup:\n${deno.output()}`);
  assert.ok(deno.events.filter((e) => e.event === "vrrp.state").every((e) => e.to !== "master"), deno.output());
  assert.equal(deno.output().includes("Dropped VRRP packet"), false, deno.output());
  lab.killAll("lb1");
  await ka.exited;
  const took = await waitFor(() => lab.holds("lb2"), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `Deno took over after ${took} ms (MDI ${MDI.toFixed(0)} ms)`);
  assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000)) >= 0, "client ARP did not move");
  console.log(`# Deno took over ${took.toFixed(0)} ms after kill -9 of keepalived`);

  // keepalived back at priority 30, below Deno's 50: it stays backup while Deno advertises.
  lab.exec("lb1", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
  const ka2 = lab.spawnKeepalived("lb1", keepalivedConf(30));
  await new Promise((r) => setTimeout(r, 3 * MDI));
  assert.equal(lab.holds("lb1"), false, `keepalived did not yield to the Deno master:\n${ka2.output()}`);
  assert.equal(lab.holds("lb2"), true);
  await stopAll(ka, ka2, deno);
});
