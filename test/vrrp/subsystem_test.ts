// Tests for the subsystem's addressing rules (unicast without a valid peer is an error) and netlink messages.

import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveAddressing } from "../../src/vrrp/subsystem.ts";
import { addressMessage } from "../../src/vrrp/ip_address.ts";
import type { VrrpConfig } from "../../src/vrrp/config.ts";

const base = {
  name: "VI_1", interface: "eth0", virtualIps: [{ cidr: { address: "192.0.2.100", prefix: 24, family: 4 } }],
  unicastPeers: [] as string[],
} as unknown as VrrpConfig;
const iface = (addrs: string[]) => (_dev: string, exclude: string[]) => addrs.find((a) => !exclude.includes(a));

test("multicast: source is the first non-VIP address", () => {
  assert.deepEqual(resolveAddressing(base, iface(["192.0.2.11", "192.0.2.100"])), { src: "192.0.2.11", peers: [], owner: false });
});

test("address owner: the VIP is the interface's primary address", () => {
  assert.equal(resolveAddressing(base, iface(["192.0.2.100"])).owner, true);
});

test("unicast: peers validated; none valid is an error, never multicast", () => {
  const ok = resolveAddressing({ ...base, unicastSrc: "192.0.2.11", unicastPeers: ["192.0.2.12"] }, iface(["192.0.2.11"]));
  assert.deepEqual(ok.peers, ["192.0.2.12"]);
  assert.throws(() => resolveAddressing({ ...base, unicastSrc: "192.0.2.11", unicastPeers: [] }, iface(["192.0.2.11"])), /no valid unicast peer/);
  assert.throws(() => resolveAddressing({ ...base, unicastPeers: ["192.0.2.11", "not-an-ip"] }, iface(["192.0.2.11"])), /no valid unicast peer/);
  assert.throws(() => resolveAddressing(base, iface([])), /no IPv4 address/);
});

test("RTM_NEWADDR message layout", () => {
  const m = addressMessage("add", { address: "192.0.2.100", prefix: 24, dev: "eth0", label: "eth0:vip" }, 7, 1);
  const v = new DataView(m.buffer);
  assert.equal(v.getUint32(0, true), m.length);
  assert.equal(v.getUint16(4, true), 20);
  assert.equal(v.getUint16(6, true), 0x605);
  assert.deepEqual([m[16], m[17], v.getUint32(20, true)], [2, 24, 7]);
  assert.equal(Buffer.from(m.subarray(24, 32)).toString("hex"), "08000200c0000264");
  assert.ok(Buffer.from(m).includes("eth0:vip\0"));
});
