// Tests for receive validation: each rule drops (or warns) with its own reason.

import { test } from "node:test";
import assert from "node:assert/strict";
import { encodePacket, type Advert } from "../../src/vrrp/packet.ts";
import { validateReceived, ReceiveStats, type ReceiveConfig } from "../../src/vrrp/receive.ts";

const cfg: ReceiveConfig = {
  version: 2, vrid: 51, advertInterval: 1000, auth: { type: "pass", password: "1111" },
  virtualIps: ["192.0.2.100"], ownAddresses: ["192.0.2.11"], unicastPeers: [],
};
const good: Advert = { version: 2, vrid: 51, priority: 100, advertInterval: 1000, addresses: ["192.0.2.100"], password: "1111" };
const pkt = (a: Partial<Advert>, src = "192.0.2.12", dst = "224.0.0.18") => encodePacket({ ...good, ...a }, src, dst);

test("accepts a matching advert", () => {
  const v = validateReceived(pkt({}), cfg);
  assert.ok(v.accept);
  assert.deepEqual(v.warnings, []);
});

const drops: [string, Uint8Array, Partial<ReceiveConfig>, string][] = [
  ["unknown VRID", pkt({ vrid: 52 }), {}, "unknown_vrid"],
  ["own packet", pkt({}, "192.0.2.11"), {}, "own_packet"],
  ["wrong password", pkt({ password: "2222" }), {}, "auth_mismatch"],
  ["no auth when configured", pkt({ password: undefined }), {}, "auth_mismatch"],
  ["auth when none configured", pkt({}), { auth: undefined }, "auth_mismatch"],
  ["v2 interval mismatch", pkt({ advertInterval: 2000 }), {}, "interval_mismatch"],
  ["v3 packet on a v2 instance", encodePacket({ ...good, version: 3, password: undefined }, "192.0.2.12", "224.0.0.18"), {}, "bad_version"],
  ["unicast from a stranger", pkt({}, "192.0.2.99", "192.0.2.11"), { unicastPeers: ["192.0.2.12"] }, "unknown_peer"],
];
for (const [name, bytes, over, reason] of drops) {
  test(`drops ${name} (${reason})`, () => {
    const v = validateReceived(bytes, { ...cfg, ...over });
    assert.equal(v.accept ? "accepted" : v.reason, reason);
  });
}

test("v3: interval mismatch and address mismatch are accepted with warnings", () => {
  const v3cfg: ReceiveConfig = { ...cfg, version: 3, auth: undefined };
  const v = validateReceived(encodePacket({ ...good, version: 3, password: undefined, advertInterval: 500, addresses: ["192.0.2.101"] }, "192.0.2.12", "224.0.0.18"), v3cfg);
  assert.ok(v.accept);
  assert.deepEqual(v.warnings.map((w) => w.code), ["interval_mismatch", "address_mismatch"]);
});

test("password compares the first 8 bytes only", () => {
  const v = validateReceived(pkt({ password: "abcdefgh-tail1" }), { ...cfg, auth: { type: "pass", password: "abcdefgh-tail2" } });
  assert.ok(v.accept);
});

test("stats count accepted, drops by reason and warnings", () => {
  const s = new ReceiveStats();
  s.count(validateReceived(pkt({}), cfg));
  s.count(validateReceived(pkt({ vrid: 9 }), cfg));
  s.count(validateReceived(new Uint8Array(3), cfg));
  assert.equal(s.accepted, 1);
  assert.deepEqual(s.dropped, { unknown_vrid: 1, truncated: 1 });
});
