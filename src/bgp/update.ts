// UPDATE bodies (RFC 4271 §4.3, §5): path attributes out, and every check of RFC 4271 §6.3 on the
// way in. IPv6 rides in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760); 4-byte AS numbers per RFC 6793.

import { BgpMessageError, ERR, UPDATE_ERR } from "./notification.ts";
import { addressBytes, bytesAddress, decodePrefixes, encodePrefix } from "./prefix.ts";
import type { Prefix } from "./prefix.ts";

/** Path attribute type codes. */
export const ATTR = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7, COMMUNITIES: 8,
  ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH_NLRI: 14, MP_UNREACH_NLRI: 15, EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17, AS4_AGGREGATOR: 18, LARGE_COMMUNITY: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
const OPTIONAL = 0x80;
const TRANSITIVE = 0x40;
const PARTIAL = 0x20;
const EXTENDED = 0x10;

/** The optional and transitive bits each recognized attribute must carry. */
const EXPECTED_FLAGS: Record<number, number> = {
  [ATTR.ORIGIN]: TRANSITIVE, [ATTR.AS_PATH]: TRANSITIVE, [ATTR.NEXT_HOP]: TRANSITIVE, [ATTR.LOCAL_PREF]: TRANSITIVE,
  [ATTR.ATOMIC_AGGREGATE]: TRANSITIVE, [ATTR.MED]: OPTIONAL, [ATTR.AGGREGATOR]: OPTIONAL | TRANSITIVE,
  [ATTR.COMMUNITIES]: OPTIONAL | TRANSITIVE, [ATTR.ORIGINATOR_ID]: OPTIONAL, [ATTR.CLUSTER_LIST]: OPTIONAL,
  [ATTR.MP_REACH_NLRI]: OPTIONAL, [ATTR.MP_UNREACH_NLRI]: OPTIONAL, [ATTR.EXTENDED_COMMUNITIES]: OPTIONAL | TRANSITIVE,
  [ATTR.AS4_PATH]: OPTIONAL | TRANSITIVE, [ATTR.AS4_AGGREGATOR]: OPTIONAL | TRANSITIVE, [ATTR.LARGE_COMMUNITY]: OPTIONAL | TRANSITIVE,
};

/** AS_PATH segment types (RFC 4271 §4.3; confederations RFC 5065). */
export const SEGMENT = { AS_SET: 1, AS_SEQUENCE: 2, CONFED_SEQUENCE: 3, CONFED_SET: 4 } as const;
/** RFC 1997 / RFC 8326 well-known communities. */
export const COMMUNITY = { GRACEFUL_SHUTDOWN: 0xffff0000, NO_EXPORT: 0xffffff01, NO_ADVERTISE: 0xffffff02, NO_EXPORT_SUBCONFED: 0xffffff03 } as const;

export interface AsPathSegment {
  type: number;
  asns: number[];
}

/** What a received UPDATE said (tandem announces only: it reads to check, not to route). */
export interface DecodedAttributes {
  origin?: number;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities?: number[];
  largeCommunities?: [number, number, number][];
  mpReach?: { afi: number; safi: number; nextHops: string[]; nlri: Prefix[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: Prefix[] };
}

export interface DecodedUpdate {
  withdrawn: Prefix[];
  nlri: Prefix[];
  attributes: DecodedAttributes;
}

/** What decoding an UPDATE needs from the session. */
export interface UpdateContext {
  /** Both sides sent the 4-octet AS capability: AS_PATH carries 4-byte numbers. */
  as4: boolean;
  ebgp: boolean;
  peerAs: number;
}

/** The attributes tandem sends with a route (ORIGIN is always IGP). */
export interface RouteAttributes {
  /** eBGP: [local AS]; iBGP: empty. */
  asPath: number[];
  nextHop: string;
  med?: number;
  /** iBGP only (RFC 4271 §5.1.5). */
  localPref?: number;
  communities: number[];
  largeCommunities: [number, number, number][];
}

/** One family's change: prefixes to withdraw, and prefixes to announce with one set of attributes. */
export interface UpdateSpec {
  family: 4 | 6;
  withdraw: Prefix[];
  announce?: { attributes: RouteAttributes; prefixes: Prefix[] };
}

const AS_TRANS = 23456;
/** Largest UPDATE body: 4096 minus the 19-byte header. */
export const MAX_BODY = 4096 - 19;

function attribute(flags: number, type: number, value: number[] | Uint8Array): number[] {
  if (value.length > 255) return [flags | EXTENDED, type, value.length >>> 8, value.length & 255, ...value];
  return [flags, type, value.length, ...value];
}

const u16 = (n: number) => [(n >>> 8) & 255, n & 255];
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** The path attributes of a route, MP_REACH_NLRI excluded; `as4` picks the AS_PATH width. */
function routeAttributes(a: RouteAttributes, family: 4 | 6, as4: boolean): number[] {
  const out: number[] = [];
  out.push(...attribute(TRANSITIVE, ATTR.ORIGIN, [0]));
  const seq = (width: 2 | 4, asns: number[]) => (asns.length ? [SEGMENT.AS_SEQUENCE, asns.length, ...asns.flatMap((n) => (width === 4 ? u32(n) : u16(n)))] : []);
  const big = a.asPath.some((n) => n > 0xffff);
  out.push(...attribute(TRANSITIVE, ATTR.AS_PATH, as4 ? seq(4, a.asPath) : seq(2, a.asPath.map((n) => (n > 0xffff ? AS_TRANS : n)))));
  if (family === 4) out.push(...attribute(TRANSITIVE, ATTR.NEXT_HOP, [...addressBytes(a.nextHop)]));
  if (a.med !== undefined) out.push(...attribute(OPTIONAL, ATTR.MED, u32(a.med)));
  if (a.localPref !== undefined) out.push(...attribute(TRANSITIVE, ATTR.LOCAL_PREF, u32(a.localPref)));
  if (a.communities.length) out.push(...attribute(OPTIONAL | TRANSITIVE, ATTR.COMMUNITIES, a.communities.flatMap(u32)));
  // RFC 6793 §4.2.2: a peer without 4-byte AS support gets the real path in AS4_PATH.
  if (!as4 && big) out.push(...attribute(OPTIONAL | TRANSITIVE, ATTR.AS4_PATH, seq(4, a.asPath)));
  if (a.largeCommunities.length) out.push(...attribute(OPTIONAL | TRANSITIVE, ATTR.LARGE_COMMUNITY, a.largeCommunities.flatMap((c) => c.flatMap(u32))));
  return out;
}

/** Splits encoded prefixes into runs of at most `room` bytes. */
function chunks(prefixes: Prefix[], room: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  for (const p of prefixes) {
    const e = encodePrefix(p);
    if (cur.length + e.length > room && cur.length) {
      out.push(cur);
      cur = [];
    }
    cur.push(...e);
  }
  if (cur.length) out.push(cur);
  return out;
}

function body(withdrawn: number[], attrs: number[], nlri: number[]): Uint8Array {
  return Uint8Array.from([...u16(withdrawn.length), ...withdrawn, ...u16(attrs.length), ...attrs, ...nlri]);
}

/**
 * The UPDATE bodies for a change, each at most MAX_BODY bytes: withdrawals first, then the
 * announcements. IPv4 uses the classic fields; IPv6 uses MP_UNREACH_NLRI / MP_REACH_NLRI, placed
 * first among the attributes (RFC 7606 §5.1).
 */
export function encodeUpdateBodies(spec: UpdateSpec, ctx: { as4: boolean }): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (spec.family === 4) {
    for (const w of chunks(spec.withdraw, MAX_BODY - 4)) out.push(body(w, [], []));
    if (spec.announce) {
      const attrs = routeAttributes(spec.announce.attributes, 4, ctx.as4);
      for (const n of chunks(spec.announce.prefixes, MAX_BODY - 4 - attrs.length)) out.push(body([], attrs, n));
    }
    return out;
  }
  for (const w of chunks(spec.withdraw, MAX_BODY - 4 - 4 - 3)) out.push(body([], attribute(OPTIONAL, ATTR.MP_UNREACH_NLRI, [...u16(2), 1, ...w]), []));
  if (spec.announce) {
    const attrs = routeAttributes(spec.announce.attributes, 6, ctx.as4);
    const nh = [...addressBytes(spec.announce.attributes.nextHop)];
    const head = [...u16(2), 1, nh.length, ...nh, 0];
    for (const n of chunks(spec.announce.prefixes, MAX_BODY - 4 - attrs.length - 4 - head.length)) {
      out.push(body([], [...attribute(OPTIONAL, ATTR.MP_REACH_NLRI, [...head, ...n]), ...attrs], []));
    }
  }
  return out;
}

// ---- decoding, RFC 4271 §6.3 ----

const updateError = (subcode: number, reason: string, data: Uint8Array = new Uint8Array(0)) => new BgpMessageError(ERR.UPDATE, subcode, data, reason);

/** A received attribute: flags, type and value, plus its whole encoding (the NOTIFICATION data). */
interface RawAttribute {
  flags: number;
  type: number;
  value: Uint8Array;
  raw: Uint8Array;
}

/** Expected length of a fixed-size attribute (undefined: variable). */
function expectedLength(type: number, as4: boolean): number | undefined {
  switch (type) {
    case ATTR.ORIGIN: return 1;
    case ATTR.NEXT_HOP: case ATTR.MED: case ATTR.LOCAL_PREF: case ATTR.ORIGINATOR_ID: return 4;
    case ATTR.ATOMIC_AGGREGATE: return 0;
    case ATTR.AGGREGATOR: return as4 ? 8 : 6;
    case ATTR.AS4_AGGREGATOR: return 8;
    default: return undefined;
  }
}

/** Length must be a multiple of (undefined: no such rule). */
const MULTIPLE_OF: Record<number, number> = { [ATTR.COMMUNITIES]: 4, [ATTR.CLUSTER_LIST]: 4, [ATTR.EXTENDED_COMMUNITIES]: 8, [ATTR.LARGE_COMMUNITY]: 12 };

function parseAsPath(a: RawAttribute, width: 2 | 4, ctx: UpdateContext): AsPathSegment[] {
  const v = a.value;
  const segments: AsPathSegment[] = [];
  let at = 0;
  while (at < v.length) {
    if (at + 2 > v.length) throw updateError(UPDATE_ERR.MALFORMED_AS_PATH, "a path segment header is cut short");
    const type = v[at];
    const count = v[at + 1];
    if (type < SEGMENT.AS_SET || type > SEGMENT.CONFED_SET) throw updateError(UPDATE_ERR.MALFORMED_AS_PATH, `segment type ${type}`);
    if (count === 0) throw updateError(UPDATE_ERR.MALFORMED_AS_PATH, "an empty path segment");
    if (at + 2 + count * width > v.length) throw updateError(UPDATE_ERR.MALFORMED_AS_PATH, `a segment of ${count} AS numbers runs past the attribute`);
    const asns: number[] = [];
    const dv = new DataView(v.buffer, v.byteOffset + at + 2, count * width);
    for (let i = 0; i < count; i++) asns.push(width === 4 ? dv.getUint32(i * 4) : dv.getUint16(i * 2));
    segments.push({ type, asns });
    at += 2 + count * width;
  }
  // RFC 4271 §6.3: from an external peer, the leftmost AS must be the peer's (checked on AS_PATH only).
  if (a.type === ATTR.AS_PATH && ctx.ebgp && segments.length > 0) {
    const first = segments[0];
    const peer = width === 2 && ctx.peerAs > 0xffff ? AS_TRANS : ctx.peerAs;
    if (first.type !== SEGMENT.AS_SEQUENCE || first.asns[0] !== peer) {
      throw updateError(UPDATE_ERR.MALFORMED_AS_PATH, `the path starts with ${first.type === SEGMENT.AS_SEQUENCE ? `AS ${first.asns[0]}` : "a set"}, not the peer's AS ${ctx.peerAs}`);
    }
  }
  return segments;
}

/** RFC 4271 §6.3: a NEXT_HOP that is no valid host address (0/8, loopback, multicast, class E, broadcast). */
function invalidNextHop(ip: string): boolean {
  const first = Number(ip.split(".")[0]);
  return first === 0 || first === 127 || first >= 224;
}

function parseMpReach(a: RawAttribute): NonNullable<DecodedAttributes["mpReach"]> {
  const v = a.value;
  const bad = (why: string) => updateError(UPDATE_ERR.OPTIONAL_ATTRIBUTE, `MP_REACH_NLRI: ${why}`, a.raw);
  if (v.length < 5) throw bad("shorter than its fixed fields");
  const afi = (v[0] << 8) | v[1];
  const safi = v[2];
  const nhLen = v[3];
  if (4 + nhLen + 1 > v.length) throw bad(`next hop length ${nhLen} runs past the attribute`);
  const nh = v.subarray(4, 4 + nhLen);
  const nextHops: string[] = [];
  if (afi === 1 && safi === 1) {
    if (nhLen !== 4 && nhLen !== 16 && nhLen !== 32) throw bad(`next hop length ${nhLen} for IPv4 unicast`);
  } else if (afi === 2 && safi === 1) {
    if (nhLen !== 16 && nhLen !== 32) throw bad(`next hop length ${nhLen} for IPv6 unicast (must be 16 or 32)`);
  }
  if ((afi === 1 || afi === 2) && safi === 1) {
    // One global address, or a global and a link-local one (RFC 2545 §3); IPv4 over IPv6 per RFC 8950.
    const step = nhLen === 4 ? 4 : 16;
    for (let i = 0; i + step <= nhLen; i += step) nextHops.push(bytesAddress(nh.slice(i, i + step)));
  }
  const field = v.subarray(4 + nhLen + 1);
  let nlri: Prefix[] = [];
  if ((afi === 1 || afi === 2) && safi === 1) {
    const parsed = decodePrefixes(field, afi === 1 ? 4 : 6);
    if (!parsed) throw updateError(UPDATE_ERR.INVALID_NETWORK_FIELD, "MP_REACH_NLRI carries a malformed prefix", a.raw);
    nlri = parsed;
  }
  return { afi, safi, nextHops, nlri };
}

function parseMpUnreach(a: RawAttribute): NonNullable<DecodedAttributes["mpUnreach"]> {
  const v = a.value;
  if (v.length < 3) throw updateError(UPDATE_ERR.OPTIONAL_ATTRIBUTE, "MP_UNREACH_NLRI: shorter than its fixed fields", a.raw);
  const afi = (v[0] << 8) | v[1];
  const safi = v[2];
  let withdrawn: Prefix[] = [];
  if ((afi === 1 || afi === 2) && safi === 1) {
    const parsed = decodePrefixes(v.subarray(3), afi === 1 ? 4 : 6);
    if (!parsed) throw updateError(UPDATE_ERR.INVALID_NETWORK_FIELD, "MP_UNREACH_NLRI carries a malformed prefix", a.raw);
    withdrawn = parsed;
  }
  return { afi, safi, withdrawn };
}

/** Splits the path attributes field, checking flags, lengths and repeats. */
function splitAttributes(field: Uint8Array, ctx: UpdateContext): RawAttribute[] {
  const out: RawAttribute[] = [];
  const seen = new Set<number>();
  let at = 0;
  while (at < field.length) {
    if (at + 3 > field.length) throw updateError(UPDATE_ERR.MALFORMED_ATTRIBUTE_LIST, "an attribute header is cut short");
    const flags = field[at];
    const type = field[at + 1];
    const ext = (flags & EXTENDED) !== 0;
    if (ext && at + 4 > field.length) throw updateError(UPDATE_ERR.MALFORMED_ATTRIBUTE_LIST, "an attribute header is cut short");
    const len = ext ? (field[at + 2] << 8) | field[at + 3] : field[at + 2];
    const start = at + (ext ? 4 : 3);
    if (start + len > field.length) {
      throw updateError(UPDATE_ERR.ATTRIBUTE_LENGTH, `attribute ${type} of length ${len} runs past the attributes`, field.slice(at));
    }
    const a: RawAttribute = { flags, type, value: field.slice(start, start + len), raw: field.slice(at, start + len) };
    at = start + len;
    if (seen.has(type)) throw updateError(UPDATE_ERR.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} appears twice`);
    seen.add(type);
    const expected = EXPECTED_FLAGS[type];
    if (expected === undefined) {
      // RFC 4271 §6.3: an unrecognized attribute is fine if optional; a well-known one is an error.
      if ((flags & OPTIONAL) === 0) throw updateError(UPDATE_ERR.UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${type}`, a.raw);
      continue;
    }
    const partialOk = expected === (OPTIONAL | TRANSITIVE);
    if ((flags & (OPTIONAL | TRANSITIVE)) !== expected || ((flags & PARTIAL) !== 0 && !partialOk)) {
      throw updateError(UPDATE_ERR.ATTRIBUTE_FLAGS, `attribute ${type} with flags 0x${flags.toString(16)}`, a.raw);
    }
    const fixed = expectedLength(type, ctx.as4);
    const multiple = MULTIPLE_OF[type];
    if ((fixed !== undefined && len !== fixed) || (multiple !== undefined && len % multiple !== 0)) {
      throw updateError(UPDATE_ERR.ATTRIBUTE_LENGTH, `attribute ${type} of length ${len}`, a.raw);
    }
    out.push(a);
  }
  return out;
}

/**
 * Decodes and checks an UPDATE body as RFC 4271 §6.3 asks; throws BgpMessageError with the
 * subcode and data that section names.
 */
export function decodeUpdate(b: Uint8Array, ctx: UpdateContext): DecodedUpdate {
  const wlen = (b[0] << 8) | b[1];
  if (2 + wlen + 2 > b.length) throw updateError(UPDATE_ERR.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${wlen} runs past the message`);
  const alen = (b[2 + wlen] << 8) | b[3 + wlen];
  if (4 + wlen + alen > b.length) throw updateError(UPDATE_ERR.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${alen} runs past the message`);
  const withdrawn = decodePrefixes(b.subarray(2, 2 + wlen), 4);
  if (!withdrawn) throw updateError(UPDATE_ERR.INVALID_NETWORK_FIELD, "a withdrawn route is malformed");
  const raw = splitAttributes(b.subarray(4 + wlen, 4 + wlen + alen), ctx);
  const nlri = decodePrefixes(b.subarray(4 + wlen + alen), 4);
  if (!nlri) throw updateError(UPDATE_ERR.INVALID_NETWORK_FIELD, "the NLRI field is malformed");
  const attributes: DecodedAttributes = {};
  for (const a of raw) {
    const dv = new DataView(a.value.buffer, a.value.byteOffset, a.value.length);
    switch (a.type) {
      case ATTR.ORIGIN:
        if (a.value[0] > 2) throw updateError(UPDATE_ERR.INVALID_ORIGIN, `ORIGIN ${a.value[0]}`, a.raw);
        attributes.origin = a.value[0];
        break;
      case ATTR.AS_PATH:
        attributes.asPath = parseAsPath(a, ctx.as4 ? 4 : 2, ctx);
        break;
      case ATTR.AS4_PATH:
        parseAsPath(a, 4, ctx);
        break;
      case ATTR.NEXT_HOP: {
        const ip = bytesAddress(a.value);
        if (invalidNextHop(ip)) throw updateError(UPDATE_ERR.INVALID_NEXT_HOP, `NEXT_HOP ${ip}`, a.raw);
        attributes.nextHop = ip;
        break;
      }
      case ATTR.MED:
        attributes.med = dv.getUint32(0);
        break;
      case ATTR.LOCAL_PREF:
        attributes.localPref = dv.getUint32(0);
        break;
      case ATTR.COMMUNITIES:
        attributes.communities = Array.from({ length: a.value.length / 4 }, (_, i) => dv.getUint32(i * 4));
        break;
      case ATTR.LARGE_COMMUNITY:
        attributes.largeCommunities = Array.from({ length: a.value.length / 12 }, (_, i) => [dv.getUint32(i * 12), dv.getUint32(i * 12 + 4), dv.getUint32(i * 12 + 8)]);
        break;
      case ATTR.MP_REACH_NLRI:
        attributes.mpReach = parseMpReach(a);
        break;
      case ATTR.MP_UNREACH_NLRI:
        attributes.mpUnreach = parseMpUnreach(a);
        break;
    }
  }
  // RFC 4271 §6.3 (and RFC 4760 §3 for MP_REACH_NLRI): routes need ORIGIN and AS_PATH, classic
  // NLRI a NEXT_HOP, and from an internal peer a LOCAL_PREF (RFC 4271 §5.1.5).
  const reach = nlri.length > 0 || (attributes.mpReach?.nlri.length ?? 0) > 0;
  if (reach) {
    const missing = attributes.origin === undefined ? ATTR.ORIGIN
      : attributes.asPath === undefined ? ATTR.AS_PATH
      : nlri.length > 0 && attributes.nextHop === undefined ? ATTR.NEXT_HOP
      : !ctx.ebgp && attributes.localPref === undefined ? ATTR.LOCAL_PREF
      : undefined;
    if (missing !== undefined) throw updateError(UPDATE_ERR.MISSING_WELL_KNOWN, `mandatory attribute ${missing} is missing`, Uint8Array.of(missing));
  }
  return { withdrawn, nlri, attributes };
}
