// Tests for the BGP codec: round trips of every message tandem sends, and every malformed case of
// RFC 4271 §6.1–6.3 (and RFC 7313 §5) answered with the NOTIFICATION code/subcode/data it names.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AS_TRANS, checkHeader, decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, encodeRouteRefresh, frame,
  MessageReader, ourCapabilities, summarizeOpen, TYPE,
} from "../../src/bgp/message.ts";
import type { BgpMessage } from "../../src/bgp/message.ts";
import { BgpMessageError, describeNotification, shutdownCommunication } from "../../src/bgp/notification.ts";
import { COMMUNITY, decodeUpdate, encodeUpdateBodies, MAX_BODY } from "../../src/bgp/update.ts";
import type { RouteAttributes, UpdateContext } from "../../src/bgp/update.ts";
import { makePrefix, bytesAddress, addressBytes } from "../../src/bgp/prefix.ts";

const EBGP: UpdateContext = { as4: true, ebgp: true, peerAs: 65000 };
const IBGP: UpdateContext = { as4: true, ebgp: false, peerAs: 65001 };

/** Asserts that fn throws the NOTIFICATION (code, subcode[, data]). */
function refuses(fn: () => unknown, code: number, subcode: number, data?: number[]): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BgpMessageError, `expected BgpMessageError, got ${err}`);
    assert.deepEqual([err.notification.code, err.notification.subcode], [code, subcode], err.message);
    if (data) assert.deepEqual([...err.notification.data], data, err.message);
    return;
  }
  assert.fail(`no error; expected NOTIFICATION ${code}/${subcode}`);
}

/** A whole UPDATE message from its three fields. */
function update(withdrawn: number[], attrs: number[], nlri: number[]): Uint8Array {
  return frame(TYPE.UPDATE, [withdrawn.length >> 8, withdrawn.length & 255, ...withdrawn, attrs.length >> 8, attrs.length & 255, ...attrs, ...nlri]);
}

const ORIGIN = [0x40, 1, 1, 0];
const AS_PATH = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8]; // AS_SEQUENCE [65000], 4-byte
const NEXT_HOP = [0x40, 3, 4, 192, 0, 2, 1];
const NLRI = [32, 203, 0, 113, 10];
const decode = (m: Uint8Array, ctx: UpdateContext = EBGP): BgpMessage => decodeMessage(m, ctx);

const attrs: RouteAttributes = { asPath: [65001], nextHop: "192.0.2.11", med: 10, communities: [65001 * 65536 + 100, COMMUNITY.NO_EXPORT], largeCommunities: [[4200000000, 1, 2]] };

// ---- round trips ----

test("OPEN round trip: fields, capabilities, a 4-byte AS as AS_TRANS plus the capability", () => {
  const bytes = encodeOpen({ localAs: 4200000001, holdTime: 3, routerId: "192.0.2.11", capabilities: ourCapabilities(4200000001, [4]) });
  const m = decodeMessage(bytes);
  assert.equal(m.type, "open");
  if (m.type !== "open") return;
  assert.equal(m.version, 4);
  assert.equal(m.myAs, AS_TRANS);
  assert.equal(m.holdTime, 3);
  assert.equal(m.routerId, "192.0.2.11");
  assert.deepEqual(summarizeOpen(m), { as: 4200000001, as4: true, families: [4], routeRefresh: true });
  const small = decodeMessage(encodeOpen({ localAs: 65001, holdTime: 90, routerId: "10.0.0.1", capabilities: [] }));
  assert.deepEqual(summarizeOpen(small as Extract<BgpMessage, { type: "open" }>), { as: 65001, as4: false, families: [4], routeRefresh: false });
});

test("an OPEN with 2-byte parameter lengths (RFC 9072) is read", () => {
  const caps = [2, 0, 65, 4, 0, 0, 0xfd, 0xe8];
  const body = [4, 0xfd, 0xe8, 0, 9, 10, 0, 0, 1, 255, 255, 0, caps.length + 3, 2, 0, caps.length, ...caps];
  const m = decodeMessage(frame(TYPE.OPEN, body));
  assert.equal(m.type === "open" && summarizeOpen(m).as, 65000);
});

test("KEEPALIVE, ROUTE-REFRESH and NOTIFICATION round trips; a Cease carries its Shutdown Communication", () => {
  assert.deepEqual(decodeMessage(encodeKeepalive()), { type: "keepalive" });
  assert.deepEqual(decodeMessage(encodeRouteRefresh(2, 1)), { type: "route_refresh", afi: 2, safi: 1 });
  const n = decodeMessage(encodeNotification({ code: 6, subcode: 2, data: shutdownCommunication("maintenance: SIGTERM") }));
  assert.equal(n.type, "notification");
  if (n.type !== "notification") return;
  assert.equal(describeNotification(n), 'Cease / Administrative Shutdown: "maintenance: SIGTERM"');
  assert.equal(describeNotification({ code: 3, subcode: 11, data: new Uint8Array(0) }), "UPDATE Message Error / Malformed AS_PATH");
  assert.equal(shutdownCommunication("é".repeat(200)).length, 1 + 254, "cut to 255 bytes on a character boundary");
});

test("UPDATE round trip, IPv4: ORIGIN, AS_PATH, NEXT_HOP, MED, communities, large communities", () => {
  const prefixes = [makePrefix("203.0.113.10", 32), makePrefix("203.0.113.11", 32)];
  const [body] = encodeUpdateBodies({ family: 4, withdraw: [], announce: { attributes: attrs, prefixes } }, { as4: true });
  const u = decodeUpdate(body, { as4: true, ebgp: true, peerAs: 65001 });
  assert.deepEqual(u.nlri, prefixes);
  assert.equal(u.attributes.origin, 0);
  assert.deepEqual(u.attributes.asPath, [{ type: 2, asns: [65001] }]);
  assert.equal(u.attributes.nextHop, "192.0.2.11");
  assert.equal(u.attributes.med, 10);
  assert.equal(u.attributes.localPref, undefined);
  assert.deepEqual(u.attributes.communities, attrs.communities);
  assert.deepEqual(u.attributes.largeCommunities, attrs.largeCommunities);
  const [w] = encodeUpdateBodies({ family: 4, withdraw: prefixes }, { as4: true });
  assert.deepEqual(decodeUpdate(w, EBGP), { withdrawn: prefixes, nlri: [], attributes: {} });
});

test("UPDATE round trip, IPv6: MP_REACH_NLRI first with the next hop, MP_UNREACH_NLRI to withdraw (RFC 4760)", () => {
  const p = makePrefix("2001:db8::10", 128);
  const [body] = encodeUpdateBodies({ family: 6, withdraw: [], announce: { attributes: { ...attrs, nextHop: "2001:db8:1::11" }, prefixes: [p] } }, { as4: true });
  const alen = (body[2] << 8) | body[3];
  assert.equal(body[4 + 1], 14, "MP_REACH_NLRI is the first attribute (RFC 7606 §5.1)");
  assert.ok(alen > 0);
  const u = decodeUpdate(body, { as4: true, ebgp: true, peerAs: 65001 });
  assert.deepEqual(u.attributes.mpReach, { afi: 2, safi: 1, nextHops: ["2001:db8:1::11"], nlri: [p] });
  assert.equal(u.attributes.nextHop, undefined, "no NEXT_HOP for IPv6");
  const [w] = encodeUpdateBodies({ family: 6, withdraw: [p] }, { as4: true });
  assert.deepEqual(decodeUpdate(w, EBGP).attributes.mpUnreach, { afi: 2, safi: 1, withdrawn: [p] });
});

test("a peer without 4-byte AS support gets AS_TRANS in AS_PATH and the real path in AS4_PATH (RFC 6793 §4.2.2)", () => {
  const [body] = encodeUpdateBodies({ family: 4, withdraw: [], announce: { attributes: { ...attrs, asPath: [4200000001] }, prefixes: [makePrefix("203.0.113.10", 32)] } }, { as4: false });
  const u = decodeUpdate(body, { as4: false, ebgp: true, peerAs: 4200000001 });
  assert.deepEqual(u.attributes.asPath, [{ type: 2, asns: [AS_TRANS] }]);
  const text = [...body].join(",");
  assert.ok(text.includes([0xc0, 17, 6, 2, 1, 250, 86, 234, 1].join(",")), "AS4_PATH [4200000001]");
});

test("an internal peer gets LOCAL_PREF and an empty AS_PATH", () => {
  const [body] = encodeUpdateBodies({ family: 4, withdraw: [], announce: { attributes: { ...attrs, asPath: [], localPref: 100 }, prefixes: [makePrefix("203.0.113.10", 32)] } }, { as4: true });
  const u = decodeUpdate(body, IBGP);
  assert.equal(u.attributes.localPref, 100);
  assert.deepEqual(u.attributes.asPath, []);
});

test("many prefixes are split into UPDATEs of at most 4096 bytes that together carry them all", () => {
  const prefixes = Array.from({ length: 2000 }, (_, i) => makePrefix(`10.${i >> 8}.${i & 255}.1`, 32));
  for (const spec of [{ family: 4 as const, withdraw: [], announce: { attributes: attrs, prefixes } }, { family: 4 as const, withdraw: prefixes }]) {
    const bodies = encodeUpdateBodies(spec, { as4: true });
    assert.ok(bodies.length > 1);
    const got = bodies.flatMap((b) => {
      assert.ok(b.length <= MAX_BODY);
      const u = decodeUpdate(b, { ...EBGP, peerAs: 65001 });
      return [...u.nlri, ...u.withdrawn];
    });
    assert.deepEqual(got, prefixes);
  }
  const v6 = Array.from({ length: 600 }, (_, i) => makePrefix(`2001:db8::${i.toString(16)}`, 128));
  const bodies = encodeUpdateBodies({ family: 6, withdraw: [], announce: { attributes: { ...attrs, nextHop: "2001:db8::1" }, prefixes: v6 } }, { as4: true });
  assert.ok(bodies.length > 1 && bodies.every((b) => b.length <= MAX_BODY));
  assert.deepEqual(bodies.flatMap((b) => decodeUpdate(b, { ...EBGP, peerAs: 65001 }).attributes.mpReach!.nlri), v6);
});

test("the reader splits a stream at any byte boundary", () => {
  const stream = new Uint8Array([...encodeKeepalive(), ...encodeOpen({ localAs: 65000, holdTime: 3, routerId: "192.0.2.1", capabilities: [] }), ...encodeKeepalive()]);
  for (const size of [1, 2, 7, 19, 20, 1000]) {
    const r = new MessageReader();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += size) out.push(...r.push(stream.subarray(i, i + size)));
    assert.deepEqual(out.map((m) => m[18]), [TYPE.KEEPALIVE, TYPE.OPEN, TYPE.KEEPALIVE]);
    assert.equal(r.pending, 0);
  }
});

test("prefix text: IPv6 in RFC 5952 form, host bits cleared", () => {
  assert.equal(bytesAddress(addressBytes("2001:DB8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(bytesAddress(addressBytes("::")), "::");
  assert.equal(makePrefix("203.0.113.77", 24).address, "203.0.113.0");
});

// ---- RFC 4271 §6.1 Message Header Error ----

test("§6.1: marker not all ones → 1/1 Connection Not Synchronized", () => {
  const m = encodeKeepalive();
  m[3] = 0;
  refuses(() => checkHeader(m), 1, 1);
});

test("§6.1: length below 19 or above 4096 → 1/2 Bad Message Length, data = the length field", () => {
  const m = encodeKeepalive();
  m[17] = 18;
  refuses(() => checkHeader(m), 1, 2, [0, 18]);
  m[16] = 0x10;
  m[17] = 0x01;
  refuses(() => checkHeader(m), 1, 2, [0x10, 0x01]);
});

test("§6.1: length wrong for the type (OPEN < 29, UPDATE < 23, KEEPALIVE ≠ 19, NOTIFICATION < 21) → 1/2", () => {
  refuses(() => checkHeader(frame(TYPE.OPEN, new Array(9).fill(0))), 1, 2, [0, 28]);
  refuses(() => checkHeader(frame(TYPE.UPDATE, [0, 0, 0])), 1, 2, [0, 22]);
  refuses(() => checkHeader(frame(TYPE.KEEPALIVE, [0])), 1, 2, [0, 20]);
  refuses(() => checkHeader(frame(TYPE.NOTIFICATION, [6])), 1, 2, [0, 20]);
});

test("§6.1: unknown type → 1/3 Bad Message Type, data = the type", () => {
  refuses(() => checkHeader(frame(9, [])), 1, 3, [9]);
  const r = new MessageReader();
  refuses(() => r.push(frame(0, [])), 1, 3, [0]);
});

test("RFC 7313 §5: a ROUTE-REFRESH that is not 23 bytes → 7/1", () => {
  refuses(() => decodeMessage(frame(TYPE.ROUTE_REFRESH, [0, 1, 0, 1, 0])), 7, 1);
});

// ---- RFC 4271 §6.2 OPEN Message Error ----

const open = (fields: { version?: number; as?: number; hold?: number; id?: number[]; params?: number[]; paramLen?: number }) => {
  const p = fields.params ?? [];
  return frame(TYPE.OPEN, [fields.version ?? 4, (fields.as ?? 65000) >> 8, (fields.as ?? 65000) & 255, 0, fields.hold ?? 3, ...(fields.id ?? [192, 0, 2, 1]), fields.paramLen ?? p.length, ...p]);
};

test("§6.2: version other than 4 → 2/1 Unsupported Version Number, data = 4", () => {
  refuses(() => decodeMessage(open({ version: 3 })), 2, 1, [0, 4]);
});

test("§6.2: hold time 1 or 2 → 2/6 Unacceptable Hold Time; 0 and 3 are accepted", () => {
  refuses(() => decodeMessage(open({ hold: 1 })), 2, 6);
  refuses(() => decodeMessage(open({ hold: 2 })), 2, 6);
  assert.equal(decodeMessage(open({ hold: 0 })).type, "open");
});

test("§6.2: a BGP Identifier of 0 → 2/3 Bad BGP Identifier", () => {
  refuses(() => decodeMessage(open({ id: [0, 0, 0, 0] })), 2, 3, [0, 0, 0, 0]);
});

test("§6.2: an optional parameter other than Capabilities → 2/4 Unsupported Optional Parameter", () => {
  refuses(() => decodeMessage(open({ params: [1, 2, 0, 0] })), 2, 4);
});

test("§6.2: optional parameter lengths that do not add up → 2/0", () => {
  refuses(() => decodeMessage(open({ params: [2, 2, 65, 4], paramLen: 4 })), 2, 0);
  refuses(() => decodeMessage(open({ params: [2, 9, 1], paramLen: 3 })), 2, 0);
  refuses(() => decodeMessage(open({ params: [2, 1, 0], paramLen: 2 })), 2, 0);
});

// ---- RFC 4271 §6.3 UPDATE Message Error ----

test("§6.3: withdrawn routes or attribute length running past the message → 3/1 Malformed Attribute List", () => {
  refuses(() => decode(frame(TYPE.UPDATE, [0, 9, 0, 0])), 3, 1);
  refuses(() => decode(frame(TYPE.UPDATE, [0, 0, 0, 40, 0x40, 1, 1, 0])), 3, 1);
});

test("§6.3: an attribute twice → 3/1 Malformed Attribute List", () => {
  refuses(() => decode(update([], [...ORIGIN, ...ORIGIN, ...AS_PATH, ...NEXT_HOP], NLRI)), 3, 1);
});

test("§6.3: an unrecognized well-known attribute → 3/2, data = the attribute; an unknown optional one is accepted", () => {
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x40, 99, 1, 7], NLRI)), 3, 2, [0x40, 99, 1, 7]);
  assert.equal(decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0xc0, 99, 1, 7], NLRI)).type, "update");
});

test("§6.3: a missing ORIGIN, AS_PATH, NEXT_HOP, or LOCAL_PREF from an internal peer → 3/3, data = its type", () => {
  refuses(() => decode(update([], [...AS_PATH, ...NEXT_HOP], NLRI)), 3, 3, [1]);
  refuses(() => decode(update([], [...ORIGIN, ...NEXT_HOP], NLRI)), 3, 3, [2]);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH], NLRI)), 3, 3, [3]);
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 0, ...NEXT_HOP], NLRI), IBGP), 3, 3, [5]);
  assert.equal(decode(update([], [...ORIGIN, 0x40, 2, 0, ...NEXT_HOP, 0x40, 5, 4, 0, 0, 0, 100], NLRI), IBGP).type, "update");
  assert.equal(decode(update([], [], [])).type, "update", "an empty UPDATE (End-of-RIB) needs nothing");
});

test("§6.3: flags that conflict with the type → 3/4 Attribute Flags Error, data = the attribute", () => {
  refuses(() => decode(update([], [0xc0, 1, 1, 0, ...AS_PATH, ...NEXT_HOP], NLRI)), 3, 4, [0xc0, 1, 1, 0]);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0xc0, 4, 4, 0, 0, 0, 1], NLRI)), 3, 4, [0xc0, 4, 4, 0, 0, 0, 1]);
  refuses(() => decode(update([], [0x60, 1, 1, 0, ...AS_PATH, ...NEXT_HOP], NLRI)), 3, 4, [0x60, 1, 1, 0]);
});

test("§6.3: a length that conflicts with the type → 3/5 Attribute Length Error", () => {
  refuses(() => decode(update([], [0x40, 1, 2, 0, 0, ...AS_PATH, ...NEXT_HOP], NLRI)), 3, 5, [0x40, 1, 2, 0, 0]);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, 0x40, 3, 5, 192, 0, 2, 1, 1], NLRI)), 3, 5);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0xc0, 8, 5, 1, 2, 3, 4, 5], NLRI)), 3, 5);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP, 0x80, 4, 3, 0, 0, 1], NLRI)), 3, 5);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, 0x40, 3, 9, 1, 2], [])), 3, 5, [0x40, 3, 9, 1, 2]);
});

test("§6.3: an undefined ORIGIN → 3/6 Invalid ORIGIN Attribute", () => {
  refuses(() => decode(update([], [0x40, 1, 1, 3, ...AS_PATH, ...NEXT_HOP], NLRI)), 3, 6, [0x40, 1, 1, 3]);
});

test("§6.3: a NEXT_HOP that is no host address → 3/8 Invalid NEXT_HOP Attribute", () => {
  for (const nh of [[0, 0, 0, 0], [224, 0, 0, 1], [255, 255, 255, 255], [127, 0, 0, 1]]) {
    refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, 0x40, 3, 4, ...nh], NLRI)), 3, 8, [0x40, 3, 4, ...nh]);
  }
});

test("§6.3: a malformed MP_REACH_NLRI → 3/9 Optional Attribute Error", () => {
  const mp = [0x80, 14, 9, 0, 2, 1, 5, 1, 2, 3, 4, 5];
  refuses(() => decode(update([], [...mp, ...ORIGIN, ...AS_PATH], [])), 3, 9);
  refuses(() => decode(update([], [0x80, 14, 3, 0, 2, 1, ...ORIGIN, ...AS_PATH], [])), 3, 9);
  refuses(() => decode(update([], [0x80, 15, 2, 0, 2], [])), 3, 9);
});

test("§6.3: a syntactically wrong NLRI or withdrawn field → 3/10 Invalid Network Field", () => {
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP], [33, 1, 2, 3, 4, 5])), 3, 10);
  refuses(() => decode(update([], [...ORIGIN, ...AS_PATH, ...NEXT_HOP], [32, 203, 0])), 3, 10);
  refuses(() => decode(update([40, 1, 2, 3, 4, 5], [], [])), 3, 10);
  const mp = [0x80, 14, 23, 0, 2, 1, 16, ...new Array(16).fill(0x20), 0, 129, 1];
  refuses(() => decode(update([], [...mp, ...ORIGIN, ...AS_PATH], [])), 3, 10);
});

test("§6.3: a malformed AS_PATH → 3/11 (bad segment type, empty segment, overrun, from an external peer not starting with its AS)", () => {
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 6, 5, 1, 0, 0, 0xfd, 0xe8, ...NEXT_HOP], NLRI)), 3, 11);
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 2, 2, 0, ...NEXT_HOP], NLRI)), 3, 11);
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 6, 2, 2, 0, 0, 0xfd, 0xe8, ...NEXT_HOP], NLRI)), 3, 11);
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, ...NEXT_HOP], NLRI)), 3, 11);
  refuses(() => decode(update([], [...ORIGIN, 0x40, 2, 6, 1, 1, 0, 0, 0xfd, 0xe8, ...NEXT_HOP], NLRI)), 3, 11);
  assert.equal(decode(update([], [...ORIGIN, 0x40, 2, 4, 2, 1, 0xfd, 0xe8, ...NEXT_HOP], NLRI), { ...EBGP, as4: false }).type, "update", "2-byte path");
});

test("random bytes after a valid header never escape as anything but BgpMessageError", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let i = 0; i < 3000; i++) {
    const type = 1 + (i % 5);
    const len = 4 + (rnd() % 60);
    const body = Array.from({ length: len }, rnd);
    try {
      decodeMessage(frame(type, body), i % 2 ? EBGP : IBGP);
    } catch (err) {
      assert.ok(err instanceof BgpMessageError, `type ${type} body ${body}: ${err}`);
    }
  }
});
