// VRRPv3 over IPv6: keepalived 2.2.7's advert (tcpdump capture) decodes and re-encodes byte for byte;
// hop limit, version, lengths and the pseudo-header checksum are checked.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeAdvert6, encodeAdvert6 } from "../../src/vrrp/packet6.ts";
import { validateReceived, type ReceiveConfig } from "../../src/vrrp/receive.ts";
import { canonicalIp, formatIPv6, expandIPv6 } from "../../src/core/address.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// keepalived 2.2.7, vrid 52, priority 150, advert_int 1, VIPs 2001:db8::101 and ::102, from its link-local address.
const SRC = "fe80::9871:e1ff:fe67:64b8";
const KA_V6 = "3134 9602 0064 ff2f 2001 0db8 0000 0000 0000 0000 0000 0101 2001 0db8 0000 0000 0000 0000 0000 0102";

test("decodes keepalived's VRRPv3 IPv6 advert and encodes the same bytes", () => {
  const r = decodeAdvert6(hex(KA_V6), { src: SRC, dst: "ff02::12", hopLimit: 255 });
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.advert, {
    version: 3, vrid: 52, priority: 150, advertInterval: 1000, addresses: ["2001:db8::101", "2001:db8::102"],
    src: SRC, dst: "ff02::12", ttl: 255, authType: 0,
  });
  const again = encodeAdvert6({ version: 3, vrid: 52, priority: 150, advertInterval: 1000, addresses: ["2001:db8::101", "2001:db8::102"] }, SRC, "ff02::12");
  assert.equal(toHex(again), toHex(hex(KA_V6)));
});

test("hop limit, version, type, lengths, checksum and interval are checked", () => {
  const ok = { src: SRC, dst: "ff02::12", hopLimit: 255 };
  const bad = (bytes: Uint8Array, ip = ok) => {
    const r = decodeAdvert6(bytes, ip);
    return r.ok ? "ok" : r.reason;
  };
  const good = hex(KA_V6);
  assert.equal(bad(good, { ...ok, hopLimit: 254 }), "bad_ttl");
  const v2 = good.slice();
  v2[0] = 0x21;
  assert.equal(bad(v2), "bad_version");
  const type = good.slice();
  type[0] = 0x32;
  assert.equal(bad(type), "bad_type");
  assert.equal(bad(good.subarray(0, 30)), "truncated");
  assert.equal(bad(Uint8Array.from([...good, 0, 0])), "oversized");
  const sum = good.slice();
  sum[7] ^= 1;
  assert.equal(bad(sum), "bad_checksum");
  assert.equal(bad(good, { ...ok, dst: "ff02::13" }), "bad_checksum");
  // Without the destination (no IPV6_PKTINFO) the kernel's verification is relied on.
  assert.equal(bad(sum, { src: SRC, dst: undefined as unknown as string, hopLimit: 255 }), "ok");
  assert.throws(() => encodeAdvert6({ version: 2, vrid: 1, priority: 1, advertInterval: 1000, addresses: ["2001:db8::1"] }, SRC, "ff02::12"), /version 3 only/);
  assert.throws(() => encodeAdvert6({ version: 3, vrid: 1, priority: 1, advertInterval: 1000, addresses: ["192.0.2.1"] }, SRC, "ff02::12"), /not an IPv6 address/);
});

test("receive validation for an IPv6 instance compares addresses in canonical form", () => {
  const cfg: ReceiveConfig = { family: 6, version: 3, vrid: 52, advertInterval: 1000, virtualIps: ["2001:DB8:0::101", "2001:db8::102"], ownAddresses: ["fe80::1"], unicastPeers: [] };
  const v = validateReceived(hex(KA_V6), cfg, { src: SRC, dst: "ff02::12", hopLimit: 255 });
  assert.ok(v.accept, JSON.stringify(v));
  assert.deepEqual(v.warnings, []);
  const own = validateReceived(hex(KA_V6), { ...cfg, ownAddresses: ["FE80::9871:E1FF:FE67:64B8"] }, { src: SRC, dst: "ff02::12", hopLimit: 255 });
  assert.equal(own.accept ? "" : own.reason, "own_packet");
  const unicast = encodeAdvert6({ version: 3, vrid: 52, priority: 150, advertInterval: 1000, addresses: ["2001:db8::101", "2001:db8::102"] }, "2001:db8::99", "2001:db8::11");
  const stranger = validateReceived(unicast, { ...cfg, unicastPeers: ["2001:db8::12"] }, { src: "2001:db8::99", dst: "2001:db8::11", hopLimit: 255 });
  assert.equal(stranger.accept ? "" : stranger.reason, "unknown_peer");
  const peer = validateReceived(unicast, { ...cfg, unicastPeers: ["2001:DB8::99"] }, { src: "2001:db8::99", dst: "2001:db8::11", hopLimit: 255 });
  assert.ok(peer.accept);
});

test("IPv6 text forms: RFC 5952 canonical output", () => {
  assert.equal(formatIPv6(expandIPv6("2001:0db8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
  assert.equal(formatIPv6(expandIPv6("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIPv6(expandIPv6("::")), "::");
  assert.equal(formatIPv6(expandIPv6("fe80::1:0")), "fe80::1:0");
  assert.equal(formatIPv6(expandIPv6("2001:db8:1:1:1:1:1:1")), "2001:db8:1:1:1:1:1:1");
  assert.equal(canonicalIp("192.0.2.1"), "192.0.2.1");
});
