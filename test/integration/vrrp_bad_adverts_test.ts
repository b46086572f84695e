// Crafted bad adverts from a third namespace: every validation rule of the built binary drops them, the master stays.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labScenario, waitFor, canRunLab, started } from "./vrrp_lab.ts";
import { encodePacket, encodeIpPacket, internetChecksum, type Advert } from "../../src/vrrp/packet.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", evil: "192.0.2.66" });
});
after(async () => {
  await lab?.destroy();
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const G = "224.0.0.18";
const EVIL = "192.0.2.66";
const winner: Advert = { version: 2, vrid: 51, priority: 254, advertInterval: 1000, addresses: ["192.0.2.100"], password: "1111" };

function fixIpChecksum(b: Uint8Array): Uint8Array {
  b[10] = 0;
  b[11] = 0;
  const s = internetChecksum(b.subarray(0, 20));
  b[10] = s >> 8;
  b[11] = s & 0xff;
  return b;
}

/** Each crafted packet would make the master yield (priority 254) if it were accepted. */
function crafted(): [string, Uint8Array][] {
  const ttl = encodePacket(winner, EVIL, G);
  ttl[8] = 64;
  const sum = encodePacket(winner, EVIL, G);
  sum[26] ^= 0xff;
  const trunc = encodePacket(winner, EVIL, G);
  trunc[23] = 3; // claims three addresses
  const vrrp = encodePacket(winner, EVIL, G).subarray(20);
  const big = new Uint8Array(vrrp.length + 8);
  big.set(vrrp);
  const ah = encodePacket({ ...winner, password: undefined }, EVIL, G);
  return [
    ["bad_ttl", fixIpChecksum(ttl)],
    ["bad_version", encodePacket({ ...winner, version: 3, password: undefined }, EVIL, G)],
    ["bad_checksum", sum],
    ["auth_mismatch", encodePacket({ ...winner, password: "wrong" }, EVIL, G)],
    ["auth_mismatch", ah],
    ["interval_mismatch", encodePacket({ ...winner, advertInterval: 3000 }, EVIL, G)],
    ["truncated", fixIpChecksum(trunc)],
    ["oversized", encodeIpPacket(EVIL, G, big)],
    ["unknown_vrid", encodePacket({ ...winner, vrid: 52 }, EVIL, G)],
    ["own_packet", encodePacket(winner, "192.0.2.11", G)],
  ];
}

function inject(packets: Uint8Array[]): void {
  execFileSync("ip", ["netns", "exec", lab.ns("evil"), join(ROOT, "node_modules/.bin/node"), "--no-warnings",
    join(ROOT, "test/integration/vrrp_inject.ts"), EVIL, ...packets.map(hex)], { stdio: "inherit" });
}

test("bad adverts change nothing; a valid one (positive control) does", { skip }, async () => {
  const cfg = { version: 2 as const, advertInterval: 1000, auth: { type: "pass" as const, password: "1111" } };
  const file = lab.writeConfig(labScenario(cfg));
  const b = lab.spawnLb("lb2", file, "backup");
  await started(b);
  const a = lab.spawnLb("lb1", file, "master");
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 8000)) >= 0, a.output());
  await waitFor(() => a.events.some((e) => e.event === "vrrp.state" && e.to === "master"), 1000);
  const transitions = () => a.events.filter((e) => e.event === "vrrp.state").length;
  const before = transitions();
  const packets = crafted();
  for (let round = 0; round < 3; round++) {
    inject(packets.map(([, p]) => p));
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(lab.holds("lb1"), true);
  assert.equal(lab.holds("lb2"), false);
  assert.equal(transitions(), before, a.output());
  for (const reason of new Set(packets.map(([r]) => r))) {
    if (reason === "unknown_vrid" || reason === "own_packet") continue; // counted silently
    assert.ok(a.output().includes(`Dropped VRRP packet: ${reason}`), `no drop logged for ${reason}`);
  }
  // Positive control: the same path with a valid advert makes lb1 yield.
  inject([encodePacket(winner, EVIL, G)]);
  assert.ok((await waitFor(() => !lab.holds("lb1"), 2000)) >= 0, "valid advert was not accepted");
  assert.ok((await waitFor(() => a.events.some((e) => e.event === "vrrp.split_brain" && e.peer === EVIL), 1000)) >= 0);
});
