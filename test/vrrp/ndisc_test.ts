// Unsolicited neighbour advertisement: the packet layout, flags and ICMPv6 checksum.

import { test } from "node:test";
import assert from "node:assert/strict";
import { unsolicitedNa } from "../../src/vrrp/ndisc.ts";
import { internetChecksum } from "../../src/vrrp/packet.ts";
import { expandIPv6 } from "../../src/core/address.ts";

test("an unsolicited NA: from the VIP to ff02::1, hop limit 255, Override set, Solicited clear, target link-layer address", () => {
  const mac = Uint8Array.from([0x02, 0, 0, 0, 0, 0x11]);
  const p = unsolicitedNa(mac, "2001:db8::100");
  assert.equal(p.length, 40 + 32);
  assert.equal(p[0] >> 4, 6);
  assert.deepEqual([p[4] << 8 | p[5], p[6], p[7]], [32, 58, 255]);
  assert.deepEqual(p.subarray(8, 24), expandIPv6("2001:db8::100"));
  assert.deepEqual(p.subarray(24, 40), expandIPv6("ff02::1"));
  const icmp = p.subarray(40);
  assert.deepEqual([icmp[0], icmp[1], icmp[4]], [136, 0, 0x20]);
  assert.deepEqual(icmp.subarray(8, 24), expandIPv6("2001:db8::100"));
  assert.deepEqual([...icmp.subarray(24, 32)], [2, 1, 0x02, 0, 0, 0, 0, 0x11]);
  // The checksum verifies over the pseudo-header (sum of everything is 0).
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40), 0);
  pseudo[35] = 32;
  pseudo[39] = 58;
  assert.equal(internetChecksum(pseudo, icmp), 0);
  assert.equal(unsolicitedNa(mac, "2001:db8::100", true).subarray(40)[4], 0xa0, "a forwarding host sets Router");
});
