// Interop of the built binary with a real keepalived (Debian's 2.2.7) as the peer: VRRPv2 with PASS auth and VRRPv3, both directions.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Lab, labScenario, waitFor, VIP, type LbProcess, keepalivedSkip, requireKeepalived } from "./vrrp_lab.ts";

const skip = keepalivedSkip();
let lab: Lab;

before(() => {
  requireKeepalived(skip);
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
});
after(async () => {
  await lab?.destroy();
});

interface Variant {
  name: string;
  version: 2 | 3;
  /** ms */
  advert: number;
  auth: boolean;
}

const VARIANTS: Variant[] = [
  { name: "VRRPv2 + PASS auth", version: 2, advert: 1000, auth: true },
  { name: "VRRPv3", version: 3, advert: 200, auth: false },
];

function keepalivedConf(v: Variant, priority: number): string {
  return `global_defs {
  router_id ka-lab
  vrrp_version ${v.version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${v.advert / 1000}
${v.auth ? "  authentication {\n    auth_type PASS\n    auth_pass 1111\n  }\n" : ""}  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

/** The tandem side's file: roles master (100) and backup (50), matching keepalived's priorities. */
function tandemConf(v: Variant): string {
  return lab.writeConfig(labScenario({ version: v.version, advertInterval: v.advert, auth: v.auth ? { type: "pass", password: "1111" } : undefined }));
}

async function cleanup(...ps: LbProcess[]): Promise<void> {
  lab.killAll("lb1");
  lab.killAll("lb2");
  for (const p of ps) await p.exited;
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
}

for (const v of VARIANTS) {
  const mdi = 3 * v.advert + ((256 - 50) * (v.version === 2 ? 1000 : v.advert)) / 256;

  test(`${v.name}: keepalived backup yields to tandem master and takes over when it dies`, { skip }, async () => {
    const ka = lab.spawnKeepalived("lb2", keepalivedConf(v, 50));
    await new Promise((r) => setTimeout(r, 500));
    const t = lab.spawnLb("lb1", tandemConf(v), "master");
    assert.ok((await waitFor(() => lab.holds("lb1"), 3 * mdi + 2000)) >= 0, t.output());
    await new Promise((r) => setTimeout(r, 2 * v.advert + 500));
    assert.equal(lab.holds("lb2"), false, `keepalived did not stay backup:\n${ka.output()}`);
    assert.equal(lab.holds("lb1"), true);
    assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
    assert.equal(lab.reach("client"), "refused");
    lab.killAll("lb1");
    await t.exited;
    const took = await waitFor(() => lab.holds("lb2"), mdi + 2000, 10);
    assert.ok(took >= 0 && took <= mdi + 500, `keepalived took over after ${took} ms (MDI ${mdi})`);
    assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000)) >= 0, "client ARP did not move");
    console.log(`# ${v.name}: keepalived took over ${took.toFixed(0)} ms after kill -9 of tandem`);
    await cleanup(ka, t);
  });

  test(`${v.name}: tandem backup yields to keepalived master and takes over when it dies`, { skip }, async () => {
    const ka = lab.spawnKeepalived("lb1", keepalivedConf(v, 100));
    assert.ok((await waitFor(() => lab.holds("lb1"), 3 * mdi + 2000)) >= 0, ka.output());
    const t = lab.spawnLb("lb2", tandemConf(v), "backup");
    await new Promise((r) => setTimeout(r, mdi + 1000));
    assert.equal(lab.holds("lb2"), false, `tandem did not stay backup:\n${t.output()}`);
    assert.ok(t.events.filter((e) => e.event === "vrrp.state").every((e) => e.to !== "master"), t.output());
    assert.equal(t.output().includes("Dropped VRRP packet"), false, t.output());
    assert.equal(lab.reach("client"), "refused");
    lab.killAll("lb1");
    await ka.exited;
    const took = await waitFor(() => lab.holds("lb2"), mdi + 2000, 10);
    assert.ok(took >= 0 && took <= mdi + 500, `tandem took over after ${took} ms (MDI ${mdi})`);
    assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000)) >= 0, "client ARP did not move");
    console.log(`# ${v.name}: tandem took over ${took.toFixed(0)} ms after kill -9 of keepalived`);
    // And keepalived restarted at higher priority preempts tandem back.
    lab.exec("lb1", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
    const ka2 = lab.spawnKeepalived("lb1", keepalivedConf(v, 100));
    assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 3 * mdi + 3000)) >= 0, `${ka2.output()}\n${t.output()}`);
    await cleanup(ka, ka2, t);
  });
}
