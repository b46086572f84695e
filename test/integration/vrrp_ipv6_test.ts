// VRRPv3 over IPv6 between two built binaries in namespaces: an IPv6 VIP reached by an IPv6 client
// before and after kill -9 (its neighbour cache moved by the unsolicited NA), an IPv4 and an IPv6
// instance side by side, IPv6 unicast peers.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Lab, labScenario, waitFor, started, canRunLab, NODE, VIP, VIP6, type LbProcess } from "./vrrp_lab.ts";
import type { LabScenario } from "./lab_config.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = !canRunLab() && "needs root for network namespaces";
const PORT = 7070;
let lab: Lab;

before(async () => {
  if (skip) return;
  lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" }, { ipv6: true });
  await lab.serve("lb1", PORT, "lb1", "::");
  await lab.serve("lb2", PORT, "lb2", "::");
});
after(async () => {
  await lab?.destroy();
});

/** Backup's Master_Down_Interval (v3, 200 ms adverts, priority 50). */
const MDI = masterDownInterval({ version: 3, advertInterval: 200, preempt: true, preemptDelay: 0, primaryIp: "" }, 50, 200);

const vip6 = [{ cidr: { address: VIP6, prefix: 64, family: 6 as const } }];

async function stopAll(...ps: LbProcess[]): Promise<void> {
  for (const p of ps) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  for (const h of ["lb1", "lb2"]) {
    lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
    lab.exec(h, ["ip", "addr", "del", `${VIP6}/64`, "dev", "eth0"], { allowFail: true });
  }
}

/** Connects from the client to address:PORT and returns the first line the server sends. */
function who(address: string): string {
  const js = `const s=require("node:net").connect({host:"${address}",port:${PORT}});let d="";s.setTimeout(1500);` +
    `s.on("data",b=>d+=b);s.on("end",()=>console.log(d.split("\\n")[0]));s.on("timeout",()=>{console.log("timeout");s.destroy()});s.on("error",e=>console.log(e.code))`;
  return lab.exec("client", [NODE, "-e", js], { allowFail: true }).trim();
}

async function startPair(scenario: LabScenario, held: string[]) {
  const file = lab.writeConfig(scenario);
  const b = lab.spawnLb("lb2", file, "backup");
  await started(b);
  const a = lab.spawnLb("lb1", file, "master");
  const settled = () => held.every((x) => lab.holds("lb1", x) && !lab.holds("lb2", x));
  assert.ok((await waitFor(settled, 10_000)) >= 0, `lb1 never held ${held.join(", ")} alone:\n${a.output()}\n${b.output()}`);
  await new Promise((r) => setTimeout(r, 600));
  return { a, b };
}

test("IPv6 VIP: the client reaches it on the master; after kill -9 the unsolicited NA moves the client to the backup", { skip }, async () => {
  const { a, b } = await startPair(labScenario({ virtualIps: vip6 }), [VIP6]);
  assert.equal(who(VIP6), "lb1");
  assert.equal(lab.neigh("client", VIP6), lab.mac("lb1"));
  assert.match(a.output(), /VRID 51, v3 IPv6, priority 100, multicast ff02::12 from fe80::/);
  assert.equal(a.output().includes("Dropped VRRP packet"), false, a.output());
  const t0 = performance.now();
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2", VIP6), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `takeover after ${took} ms, limit ${(MDI + 500).toFixed(0)}`);
  // The entry was REACHABLE: without the Override flag it would keep lb1's MAC until it went stale.
  const na = await waitFor(() => lab.neigh("client", VIP6) === lab.mac("lb2"), 1000, 10);
  assert.ok(na >= 0, `client's neighbour entry did not move: ${lab.exec("client", ["ip", "-6", "neigh"])}`);
  assert.equal(who(VIP6), "lb2");
  console.log(`# IPv6 kill -9 takeover ${took.toFixed(0)} ms (MDI ${MDI.toFixed(0)} ms), neighbour entry on lb2 after ${(performance.now() - t0).toFixed(0)} ms`);
  await stopAll(a, b);
});

test("an IPv4 and an IPv6 instance side by side (same VRID, separate protocols): both move on kill -9", { skip }, async () => {
  const v4 = labScenario({ name: "V4" });
  const v6 = labScenario({ name: "V6", virtualIps: vip6 });
  const { a, b } = await startPair({ ...v4, more: [{ master: v6.master, backup: v6.backup }] }, [VIP, VIP6]);
  assert.equal(who(VIP), "lb1");
  assert.equal(who(VIP6), "lb1");
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2", VIP) && lab.holds("lb2", VIP6), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `both on lb2 after ${took} ms`);
  assert.equal(who(VIP6), "lb2");
  await stopAll(a, b);
});

test("IPv6 unicast peers: election and kill -9 failover without multicast", { skip }, async () => {
  const [s1, s2] = [lab.address6("lb1"), lab.address6("lb2")];
  const scenario = labScenario({ virtualIps: vip6 }, {
    master: { unicastSrc: s1, unicastPeers: [s2] },
    backup: { unicastSrc: s2, unicastPeers: [s1] },
  });
  const { a, b } = await startPair(scenario, [VIP6]);
  assert.ok(a.output().includes(`unicast to ${s2}`), a.output());
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(lab.holds("lb2", VIP6), false, b.output());
  a.child.kill("SIGKILL");
  const took = await waitFor(() => lab.holds("lb2", VIP6), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `takeover after ${took} ms`);
  await stopAll(a, b);
});
