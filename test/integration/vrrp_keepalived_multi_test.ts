// Interop of the built binary with keepalived 2.2 (Debian) for what one instance did not cover: a
// VRRPv3 IPv6 instance and a sync group of two instances, each in both directions.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Lab, labScenario, waitFor, VIP, VIP2, VIP6, type LbProcess, keepalivedSkip, requireKeepalived } from "./vrrp_lab.ts";
import { masterDownInterval } from "../../src/vrrp/state_machine.ts";

const skip = keepalivedSkip();
let lab: Lab;

before(() => {
  requireKeepalived(skip);
  if (skip) return;
  lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" }, { ipv6: true });
  // A link each host tracks in the sync group scenarios (both hosts read the same names).
  for (const h of ["lb1", "lb2"]) {
    lab.exec(h, ["ip", "link", "add", "trk0", "type", "veth", "peer", "name", "trk1"]);
    lab.exec(h, ["ip", "link", "set", "trk0", "up"]);
    lab.exec(h, ["ip", "link", "set", "trk1", "up"]);
  }
});
after(async () => {
  await lab?.destroy();
});

const ADVERT = 200;
/** The backup's Master_Down_Interval at priority 50 (either implementation). */
const MDI = masterDownInterval({ version: 3, advertInterval: ADVERT, preempt: true, preemptDelay: 0, primaryIp: "" }, 50, ADVERT);

async function cleanup(...ps: LbProcess[]): Promise<void> {
  lab.killAll("lb1");
  lab.killAll("lb2");
  for (const p of ps) await p.exited;
  for (const h of ["lb1", "lb2"]) {
    for (const a of [`${VIP}/24`, `${VIP2}/24`, `${VIP6}/64`]) lab.exec(h, ["ip", "addr", "del", a, "dev", "eth0"], { allowFail: true });
    lab.exec(h, ["ip", "link", "set", "trk0", "up"]);
  }
}

// ---- IPv6 --------------------------------------------------------------------------------------

function keepalived6(priority: number): string {
  return `global_defs {
  router_id ka-lab
}
vrrp_instance V6 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${ADVERT / 1000}
  virtual_ipaddress {
    ${VIP6}/64
  }
}
`;
}

const tandem6 = () => lab.writeConfig(labScenario({ name: "V6", virtualIps: [{ cidr: { address: VIP6, prefix: 64, family: 6 } }] }));

test("IPv6: keepalived backup yields to tandem master and takes over when it dies", { skip }, async () => {
  const ka = lab.spawnKeepalived("lb2", keepalived6(50));
  await new Promise((r) => setTimeout(r, 500));
  const t = lab.spawnLb("lb1", tandem6(), "master");
  assert.ok((await waitFor(() => lab.holds("lb1", VIP6) && !lab.holds("lb2", VIP6), 3 * MDI + 3000)) >= 0, `${t.output()}\n${ka.output()}`);
  await new Promise((r) => setTimeout(r, 2 * ADVERT + 500));
  assert.equal(lab.holds("lb2", VIP6), false, `keepalived did not stay backup:\n${ka.output()}`);
  assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
  assert.equal(lab.reach("client", VIP6), "refused");
  lab.killAll("lb1");
  await t.exited;
  const took = await waitFor(() => lab.holds("lb2", VIP6), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `keepalived took over after ${took} ms (MDI ${MDI})`);
  assert.ok((await waitFor(() => lab.neigh("client", VIP6) === lab.mac("lb2"), 2000)) >= 0, "client's neighbour entry did not move");
  console.log(`# IPv6: keepalived took over ${took.toFixed(0)} ms after kill -9 of tandem`);
  await cleanup(ka, t);
});

test("IPv6: tandem backup yields to keepalived master and takes over when it dies", { skip }, async () => {
  const ka = lab.spawnKeepalived("lb1", keepalived6(100));
  assert.ok((await waitFor(() => lab.holds("lb1", VIP6), 3 * MDI + 3000)) >= 0, ka.output());
  const t = lab.spawnLb("lb2", tandem6(), "backup");
  await new Promise((r) => setTimeout(r, MDI + 1000));
  assert.equal(lab.holds("lb2", VIP6), false, `tandem did not stay backup:\n${t.output()}`);
  assert.ok(t.events.filter((e) => e.event === "vrrp.state").every((e) => e.to !== "master"), t.output());
  assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
  assert.equal(lab.reach("client", VIP6), "refused");
  lab.killAll("lb1");
  await ka.exited;
  const took = await waitFor(() => lab.holds("lb2", VIP6), MDI + 2000, 10);
  assert.ok(took >= 0 && took <= MDI + 500, `tandem took over after ${took} ms (MDI ${MDI})`);
  assert.ok((await waitFor(() => lab.neigh("client", VIP6) === lab.mac("lb2"), 2000)) >= 0, "client's neighbour entry did not move");
  console.log(`# IPv6: tandem took over ${took.toFixed(0)} ms after kill -9 of keepalived`);
  await cleanup(ka, t);
});

// ---- sync group ----------------------------------------------------------------------------------

/** keepalived with instances A (VIP, VRID 51, tracking trk0) and B (VIP2, VRID 52) in sync group G. */
function keepalivedGroup(priority: number): string {
  const inst = (name: string, vrid: number, vip: string, track: boolean) => `vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int ${ADVERT / 1000}
${track ? "  track_interface {\n    trk0\n  }\n" : ""}  virtual_ipaddress {
    ${vip}/24
  }
}
`;
  return `global_defs {
  router_id ka-lab
  vrrp_version 3
}
vrrp_sync_group G {
  group {
    A
    B
  }
}
${inst("A", 51, VIP, true)}${inst("B", 52, VIP2, false)}`;
}

/** The same group in tandem's file: A tracks trk0, both in G, lb1's role master at 100 / backup at 50. */
function tandemGroup(): string {
  const a = labScenario({ name: "A", track: { interfaces: [{ name: "trk0", weight: 0 }], scripts: [] } });
  const b = labScenario({ name: "B", vrid: 52, virtualIps: [{ cidr: { address: VIP2, prefix: 24, family: 4 } }] });
  return lab.writeConfig({ ...a, more: [{ master: b.master, backup: b.backup }], syncGroups: { G: ["A", "B"] } });
}

const both = (host: string) => lab.holds(host, VIP) && lab.holds(host, VIP2);
const neither = (host: string) => !lab.holds(host, VIP) && !lab.holds(host, VIP2);

test("sync group: tandem's group is master; its tracked link fails, keepalived's group takes both VIPs; back, tandem preempts both", { skip }, async () => {
  const ka = lab.spawnKeepalived("lb2", keepalivedGroup(50));
  await new Promise((r) => setTimeout(r, 500));
  const t = lab.spawnLb("lb1", tandemGroup(), "master");
  assert.ok((await waitFor(() => both("lb1") && neither("lb2"), 3 * MDI + 3000)) >= 0, `${t.output()}\n${ka.output()}`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(both("lb1") && neither("lb2"), `keepalived's group did not stay backup:\n${ka.output()}`);
  assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
  lab.exec("lb1", ["ip", "link", "set", "trk0", "down"]);
  const took = await waitFor(() => both("lb2") && neither("lb1"), 5000, 10);
  assert.ok(took >= 0, `keepalived's group did not take over:\n${ka.output()}\n${t.output()}`);
  console.log(`# sync group: keepalived's group master ${took.toFixed(0)} ms after tandem's tracked link went down`);
  lab.exec("lb1", ["ip", "link", "set", "trk0", "up"]);
  assert.ok((await waitFor(() => both("lb1") && neither("lb2"), 5000)) >= 0, `tandem's group did not preempt back:\n${t.output()}`);
  await cleanup(ka, t);
});

test("sync group: keepalived's group is master; its tracked link fails, tandem's group takes both VIPs; back, keepalived preempts both", { skip }, async () => {
  const ka = lab.spawnKeepalived("lb1", keepalivedGroup(100));
  assert.ok((await waitFor(() => both("lb1"), 3 * MDI + 3000)) >= 0, ka.output());
  const t = lab.spawnLb("lb2", tandemGroup(), "backup");
  await new Promise((r) => setTimeout(r, MDI + 1000));
  assert.ok(neither("lb2"), `tandem's group did not stay backup:\n${ka.output()}\n${t.output()}`);
  assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
  lab.exec("lb1", ["ip", "link", "set", "trk0", "down"]);
  const took = await waitFor(() => both("lb2") && neither("lb1"), 5000, 10);
  assert.ok(took >= 0, `tandem's group did not take over:\n${t.output()}\n${ka.output()}`);
  assert.ok((await waitFor(() => t.events.some((e) => e.event === "vrrp.group" && e.group === "G" && e.to === "master"), 2000)) >= 0, t.output());
  console.log(`# sync group: tandem's group master ${took.toFixed(0)} ms after keepalived's tracked link went down`);
  lab.exec("lb1", ["ip", "link", "set", "trk0", "up"]);
  assert.ok((await waitFor(() => both("lb1") && neither("lb2"), 5000)) >= 0, `keepalived's group did not preempt back:\n${ka.output()}\n${t.output()}`);
  await cleanup(ka, t);
});
