// Tests for the VRRP codec against adverts captured from keepalived 2.2.7 and crafted bad packets.

import { test } from "node:test";
import assert from "node:assert/strict";
import { decodePacket, encodePacket, encodeAdvert, encodeIpPacket, internetChecksum, passwordKey, type DecodeError } from "../../src/vrrp/packet.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// keepalived 2.2.7, VRRPv2, vrid 51, prio 100, advert_int 1, auth PASS "1111", VIP 192.0.2.100 (tcpdump capture).
const KA_V2 = "45c0 0028 0001 0000 ff70 1888 c000 020a e000 0012 2133 6401 0101 5503 c000 0264 3131 3131 0000 0000";
// keepalived 2.2.7, VRRPv3, vrid 52, prio 150, advert_int 1, VIPs 192.0.2.101, 192.0.2.102.
const KA_V3 = "45c0 0024 0001 0000 ff70 188c c000 020a e000 0012 3134 9602 0064 10fb c000 0265 c000 0266";

test("decodes keepalived's VRRPv2 PASS advert", () => {
  const r = decodePacket(hex(KA_V2));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.advert, {
    version: 2, vrid: 51, priority: 100, advertInterval: 1000, addresses: ["192.0.2.100"],
    password: "1111", src: "192.0.2.10", dst: "224.0.0.18", ttl: 255, authType: 1,
  });
});

test("decodes keepalived's VRRPv3 advert (pseudo-header checksum)", () => {
  const r = decodePacket(hex(KA_V3));
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.advert, {
    version: 3, vrid: 52, priority: 150, advertInterval: 1000, addresses: ["192.0.2.101", "192.0.2.102"],
    password: undefined, src: "192.0.2.10", dst: "224.0.0.18", ttl: 255, authType: 0,
  });
});

test("encodes byte-identical packets to keepalived's", () => {
  const v2 = encodePacket({ version: 2, vrid: 51, priority: 100, advertInterval: 1000, addresses: ["192.0.2.100"], password: "1111" }, "192.0.2.10", "224.0.0.18", 1);
  assert.equal(toHex(v2), toHex(hex(KA_V2)));
  const v3 = encodePacket({ version: 3, vrid: 52, priority: 150, advertInterval: 1000, addresses: ["192.0.2.101", "192.0.2.102"] }, "192.0.2.10", "224.0.0.18", 1);
  assert.equal(toHex(v3), toHex(hex(KA_V3)));
});

test("round-trips v3 with a sub-second interval to a unicast peer", () => {
  const advert = { version: 3 as const, vrid: 7, priority: 0, advertInterval: 250, addresses: ["198.51.100.1"] };
  const r = decodePacket(encodePacket(advert, "192.0.2.1", "192.0.2.2"));
  assert.ok(r.ok);
  assert.equal(r.advert.advertInterval, 250);
  assert.equal(r.advert.priority, 0);
  assert.equal(r.advert.dst, "192.0.2.2");
});

test("v3 checksum depends on the pseudo-header (a different dst fails)", () => {
  const b = hex(KA_V3);
  b.set([192, 0, 2, 99], 16); // rewrite dst, fix the IP header checksum only
  b[10] = 0; b[11] = 0;
  const s = internetChecksum(b.subarray(0, 20));
  b[10] = s >> 8; b[11] = s & 0xff;
  const r = decodePacket(b);
  assert.equal(r.ok ? "ok" : r.reason, "bad_checksum");
});

test("passwords: only the first 8 bytes count", () => {
  assert.equal(passwordKey("123456789"), "12345678");
  const r = decodePacket(encodePacket({ version: 2, vrid: 1, priority: 1, advertInterval: 1000, addresses: ["192.0.2.1"], password: "longpassword" }, "192.0.2.1", "224.0.0.18"));
  assert.ok(r.ok);
  assert.equal(r.advert.password, "longpass");
});

function mutate(base: string, fn: (b: Uint8Array) => Uint8Array | void): Uint8Array {
  const b = hex(base);
  return fn(b) ?? b;
}

const bad: [string, Uint8Array, DecodeError][] = [
  ["empty", new Uint8Array(0), "truncated"],
  ["short IP header", hex(KA_V2).subarray(0, 19), "truncated"],
  ["cut in VRRP", hex(KA_V2).subarray(0, 30), "truncated"],
  ["too large", new Uint8Array(2000).fill(0x45), "oversized"],
  ["IPv6", mutate(KA_V2, (b) => { b[0] = 0x65; }), "not_ipv4"],
  ["other protocol", mutate(KA_V2, (b) => { b[9] = 17; }), "not_vrrp"],
  ["TTL 64", mutate(KA_V2, (b) => { b[8] = 64; }), "bad_ttl"],
  ["version 1", mutate(KA_V2, (b) => { b[20] = 0x11; }), "bad_version"],
  ["type 2", mutate(KA_V2, (b) => { b[20] = 0x22; }), "bad_type"],
  ["flipped bit", mutate(KA_V2, (b) => { b[24] ^= 1; }), "bad_checksum"],
  ["count says 2", mutate(KA_V2, (b) => { b[23] = 2; }), "truncated"],
  ["extra bytes in VRRP", mutate(KA_V2, (b) => {
    const c = new Uint8Array(b.length + 4); c.set(b); c[3] += 4; return c;
  }), "oversized"],
  ["fragment", mutate(KA_V2, (b) => { b[6] = 0x20; }), "fragment"],
];
for (const [name, bytes, reason] of bad) {
  test(`rejects ${name} as ${reason}`, () => {
    const r = decodePacket(bytes);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, reason, r.detail);
  });
}

test("rejects the wrong configured version and AH auth", () => {
  const r = decodePacket(hex(KA_V3), 2);
  assert.equal(r.ok ? "ok" : r.reason, "bad_version");
  const ah = encodeAdvert({ version: 2, vrid: 1, priority: 1, advertInterval: 1000, addresses: ["192.0.2.1"] }, "192.0.2.1", "224.0.0.18");
  ah[4] = 2; ah[6] = 0; ah[7] = 0;
  const s = internetChecksum(ah); ah[6] = s >> 8; ah[7] = s & 0xff;
  const r2 = decodePacket(encodeIpPacket("192.0.2.1", "224.0.0.18", ah));
  assert.equal(r2.ok ? "ok" : r2.reason, "bad_auth_type");
});

test("never throws on random bytes", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const b = hex(i % 2 ? KA_V2 : KA_V3);
    for (let k = 0; k < 3; k++) b[rnd() % b.length] = rnd();
    const len = rnd() % 2 ? b.length : rnd() % b.length;
    decodePacket(b.subarray(0, len));
  }
});

test("encode refuses values that do not fit the wire", () => {
  const base = { version: 2 as const, vrid: 1, priority: 100, advertInterval: 1000, addresses: ["192.0.2.1"] };
  assert.throws(() => encodeAdvert({ ...base, vrid: 0 }, "192.0.2.1", "224.0.0.18"), /vrid 0/);
  assert.throws(() => encodeAdvert({ ...base, advertInterval: 300 }, "192.0.2.1", "224.0.0.18"), /VRRPv2/);
  assert.throws(() => encodeAdvert({ ...base, addresses: [] }, "192.0.2.1", "224.0.0.18"), /0 addresses/);
});
