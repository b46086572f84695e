// Several VRRP instances between two built binaries in namespaces, one YAML for both hosts:
// active/active (each host master for one VIP), kill -9 moving every VIP, a sync group failing over
// as one, a reload adding and removing one instance without touching the other.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Lab, labScenario, labVrrp, waitFor, started, canRunLab, NODE, VIP, VIP2, type LbProcess } from "./vrrp_lab.ts";
import type { LabScenario } from "./lab_config.ts";
import type { VrrpConfig } from "../../src/vrrp/config.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = !canRunLab() && "needs root for network namespaces";
const PORT = 7070;
let lab: Lab;

before(async () => {
  if (skip) return;
  lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
  // A server on every address of each lb answers with the host's name: the client sees who holds a VIP.
  await lab.serve("lb1", PORT, "lb1");
  await lab.serve("lb2", PORT, "lb2");
});
after(async () => {
  await lab?.destroy();
});

/** Backup's Master_Down_Interval (v3, 200 ms adverts, priority 50). */
const MDI = masterDownInterval({ version: 3, advertInterval: 200, preempt: true, preemptDelay: 0, primaryIp: "" }, 50, 200);

const vip = (address: string) => [{ cidr: { address, prefix: 24, family: 4 as const } }];

/** Instance A (VIP, VRID 51) is lb1's (role master 100, backup 50); B (VIP2, VRID 52) is lb2's (master 50, backup 100). */
function activeActive(over: Partial<VrrpConfig> = {}, extra: Partial<LabScenario> = {}): LabScenario {
  const a = labScenario({ name: "A", ...over });
  const b = { master: labVrrp({ name: "B", vrid: 52, virtualIps: vip(VIP2), priority: 50, ...over }), backup: labVrrp({ name: "B", vrid: 52, virtualIps: vip(VIP2), priority: 100, ...over }) };
  return { ...a, more: [b], ...extra };
}

async function stopAll(...ps: LbProcess[]): Promise<void> {
  for (const p of ps) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  for (const h of ["lb1", "lb2"]) for (const a of [VIP, VIP2]) lab.exec(h, ["ip", "addr", "del", `${a}/24`, "dev", "eth0"], { allowFail: true });
}

/** The state an instance last reported in a process's log ("" before its first transition). */
function stateOf(p: LbProcess, instance: string): string {
  return String(p.events.findLast((e) => e.event === "vrrp.state" && e.instance === instance)?.to ?? "");
}

/** Connects from the client to address:PORT and returns the first line the server sends. */
function who(address: string): string {
  const js = `const s=require("node:net").connect({host:"${address}",port:${PORT}});let d="";s.setTimeout(1500);` +
    `s.on("data",b=>d+=b);s.on("end",()=>console.log(d.split("\\n")[0]));s.on("timeout",()=>{console.log("timeout");s.destroy()});s.on("error",e=>console.log(e.code))`;
  return lab.exec("client", [NODE, "-e", js], { allowFail: true }).trim();
}

/** Starts both hosts from one file and waits until lb1 holds VIP and lb2 holds VIP2, each alone. */
async function startActiveActive(scenario: LabScenario) {
  const file = lab.writeConfig(scenario);
  const a = lab.spawnLb("lb1", file, "master");
  const b = lab.spawnLb("lb2", file, "backup");
  await Promise.all([started(a), started(b)]);
  const settled = () => lab.holds("lb1", VIP) && !lab.holds("lb2", VIP) && lab.holds("lb2", VIP2) && !lab.holds("lb1", VIP2);
  assert.ok((await waitFor(settled, 10_000)) >= 0, `no active/active split:\n${a.output()}\n${b.output()}`);
  return { a, b, file };
}

test("active/active: each host is master for its own instance, each client reaches its VIP on the right host", { skip }, async () => {
  const { a, b } = await startActiveActive(activeActive());
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(who(VIP), "lb1");
  assert.equal(who(VIP2), "lb2");
  assert.equal(lab.neigh("client", VIP), lab.mac("lb1"));
  assert.equal(lab.neigh("client", VIP2), lab.mac("lb2"));
  const states = () => [stateOf(a, "A"), stateOf(a, "B"), stateOf(b, "A"), stateOf(b, "B")].join(" ");
  assert.ok((await waitFor(() => states() === "master backup backup master", 2000)) >= 0, states());
  await stopAll(a, b);
});

test("kill -9 of one host moves every VIP to the other within Master_Down_Interval + 0.5 s", { skip }, async () => {
  const { a, b } = await startActiveActive(activeActive());
  assert.equal(who(VIP), "lb1");
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2", VIP) && lab.holds("lb2", VIP2), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `every VIP on lb2 after ${took} ms, limit ${(MDI + 500).toFixed(0)}`);
  assert.ok((await waitFor(() => lab.neigh("client", VIP) === lab.mac("lb2"), 1000, 10)) >= 0, "client's ARP entry for the VIP did not move");
  assert.equal(who(VIP), "lb2");
  assert.equal(who(VIP2), "lb2");
  console.log(`# kill -9 of lb1: both VIPs on lb2 after ${took.toFixed(0)} ms (MDI ${MDI.toFixed(0)} ms)`);
  await stopAll(a, b);
});

test("sync group: a member's tracked interface going down moves the whole group; back up, the group returns", { skip }, async () => {
  for (const h of ["lb1", "lb2"]) {
    lab.exec(h, ["ip", "link", "add", "trk0", "type", "veth", "peer", "name", "trk1"]);
    lab.exec(h, ["ip", "link", "set", "trk0", "up"]);
    lab.exec(h, ["ip", "link", "set", "trk1", "up"]);
  }
  // Both instances are lb1's; only A tracks trk0.
  const a = labScenario({ name: "A", track: { interfaces: [{ name: "trk0", weight: 0 }], scripts: [] } });
  const b = labScenario({ name: "B", vrid: 52, virtualIps: vip(VIP2) });
  const file = lab.writeConfig({ ...a, more: [{ master: b.master, backup: b.backup }], syncGroups: { G: ["A", "B"] } });
  const p2 = lab.spawnLb("lb2", file, "backup");
  await started(p2);
  const p1 = lab.spawnLb("lb1", file, "master");
  const onLb1 = () => lab.holds("lb1", VIP) && lab.holds("lb1", VIP2) && !lab.holds("lb2", VIP) && !lab.holds("lb2", VIP2);
  assert.ok((await waitFor(onLb1, 10_000)) >= 0, `lb1 did not take the group:\n${p1.output()}\n${p2.output()}`);
  lab.exec("lb1", ["ip", "link", "set", "trk0", "down"]);
  const onLb2 = () => lab.holds("lb2", VIP) && lab.holds("lb2", VIP2) && !lab.holds("lb1", VIP) && !lab.holds("lb1", VIP2);
  const took = await waitFor(onLb2, 5000, 10);
  assert.ok(took >= 0, `the group did not move:\n${p1.output()}`);
  // The logs may trail the addresses by a moment.
  assert.ok((await waitFor(() => stateOf(p1, "B") === "fault", 2000)) >= 0, `B did not follow A into FAULT:\n${p1.output()}`);
  assert.ok((await waitFor(() => p1.events.some((e) => e.event === "vrrp.group" && e.group === "G" && e.to === "fault"), 2000)) >= 0, p1.output());
  assert.ok((await waitFor(() => p2.events.some((e) => e.event === "vrrp.group" && e.group === "G" && e.to === "master"), 2000)) >= 0, p2.output());
  assert.equal(who(VIP2), "lb2");
  console.log(`# sync group moved ${took.toFixed(0)} ms after trk0 went down`);
  lab.exec("lb1", ["ip", "link", "set", "trk0", "up"]);
  assert.ok((await waitFor(onLb1, 5000)) >= 0, `the group did not come back:\n${p1.output()}`);
  await stopAll(p1, p2);
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "link", "del", "trk0"], { allowFail: true });
});

test("reload adds an instance and later removes it; the other instance does not move", { skip }, async () => {
  const one = labScenario({ name: "A" });
  const file = lab.writeConfig(one);
  const p2 = lab.spawnLb("lb2", file, "backup");
  await started(p2);
  const p1 = lab.spawnLb("lb1", file, "master");
  assert.ok((await waitFor(() => lab.holds("lb1", VIP) && !lab.holds("lb2", VIP) && stateOf(p1, "A") === "master" && stateOf(p2, "A") === "backup", 10_000)) >= 0, p1.output());
  const transitionsOfA = (p: LbProcess) => p.events.filter((e) => e.event === "vrrp.state" && e.instance === "A").length;
  const before = [transitionsOfA(p1), transitionsOfA(p2)];
  // Rewrite the same file with B added (lb2's), reload both hosts.
  const { writeFileSync, readFileSync } = await import("node:fs");
  const two = lab.writeConfig(activeActive());
  writeFileSync(file, readFileSync(two, "utf8"));
  p1.child.kill("SIGHUP");
  p2.child.kill("SIGHUP");
  assert.ok((await waitFor(() => lab.holds("lb2", VIP2) && !lab.holds("lb1", VIP2), 5000)) >= 0, `B did not start on reload:\n${p2.output()}`);
  assert.equal(who(VIP2), "lb2");
  writeFileSync(file, readFileSync(lab.writeConfig(one), "utf8"));
  p1.child.kill("SIGHUP");
  p2.child.kill("SIGHUP");
  assert.ok((await waitFor(() => !lab.holds("lb2", VIP2) && !lab.holds("lb1", VIP2), 5000)) >= 0, `B was not removed:\n${p2.output()}`);
  assert.deepEqual([transitionsOfA(p1), transitionsOfA(p2)], before, `instance A changed state during the reloads:\n${p1.lines.filter((l) => /vrrp.state|reload/.test(l)).join("\n")}`);
  assert.equal(lab.holds("lb1", VIP), true);
  assert.equal(who(VIP), "lb1");
  await stopAll(p1, p2);
});

test("track.proxy proxies: bound — each VIP follows the proxy bound to it, not the other instance's", { skip }, async () => {
  // web on VIP:8080 → 127.0.0.1:8081, api on VIP2:8082 → 127.0.0.1:8083, on both hosts.
  const servers = [];
  for (const h of ["lb1", "lb2"]) for (const port of [8081, 8083]) servers.push(await lab.serve(h, port, `${h}-${port}`, "127.0.0.1"));
  const check = { interval: "100ms", timeout: "300ms", rise: 1, fall: 1 };
  const proxies = {
    proxies: {
      web: { mode: "tcp", bind: `${VIP}:8080`, timeout: { connect: "500ms" }, servers: { app: { address: "127.0.0.1", port: 8081, check } } },
      api: { mode: "tcp", bind: `${VIP2}:8082`, timeout: { connect: "500ms" }, servers: { app: { address: "127.0.0.1", port: 8083, check } } },
    },
  };
  const track = { interfaces: [], proxy: { weight: 0, minServers: 1, proxies: "bound" as const }, scripts: [] };
  const { a, b } = await startActiveActive(activeActive({ track }, { sections: proxies }));
  // lb1 loses web's server: A (its VIP carries web) goes FAULT and moves; lb1's B is untouched.
  const web1 = servers[0];
  web1.child.kill("SIGKILL");
  await web1.exited;
  assert.ok((await waitFor(() => lab.holds("lb2", VIP) && !lab.holds("lb1", VIP), 3000)) >= 0, `A did not move:\n${a.output()}`);
  assert.ok((await waitFor(() => stateOf(a, "A") === "fault", 2000)) >= 0, a.output());
  assert.equal(stateOf(a, "B"), "backup", "B does not track web");
  assert.equal(lab.holds("lb2", VIP2), true);
  assert.ok(a.events.some((e) => e.event === "vrrp.state" && e.instance === "A" && e.to === "fault" && /"web"/.test(String(e.reason))), a.output());
  await stopAll(a, b);
  for (const s of servers) s.child.kill("SIGKILL");
});
