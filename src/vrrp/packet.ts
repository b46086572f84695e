// VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798, IPv4) inside their IPv4 header.

/** IP protocol number of VRRP (RFC 5798 §5.1.1.4). */
export const VRRP_PROTOCOL = 112;
/** The VRRP multicast group for IPv4 (RFC 5798 §5.1.1.2). */
export const VRRP_GROUP = "224.0.0.18";
/** TTL every advertisement carries and every receiver checks (RFC 5798 §5.1.1.3). */
export const VRRP_TTL = 255;
/** keepalived's limit: more addresses than this do not fit an Ethernet frame. */
export const MAX_ADDRESSES = 255;
/** Anything larger than an Ethernet MTU is not a VRRP advertisement. */
export const MAX_PACKET = 1500;

const IPV4_HEADER = 20;
const VRRP_HEADER = 8;
const V2_AUTH_DATA = 8;
/** IP precedence "internetwork control", as keepalived sends. */
const TOS_INTERNETWORK_CONTROL = 0xc0;

/** RFC 3768 §5.3.6 Auth Type values (2, IP AH, is deprecated and refused). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;

/** One VRRP advertisement, version-independent. */
export interface Advert {
  version: 2 | 3;
  vrid: number;
  /** 0 = the master is leaving; 255 = the address owner. */
  priority: number;
  /** Advertisement interval in milliseconds (v2: whole seconds on the wire; v3: centiseconds). */
  advertInterval: number;
  /** IPv4 addresses as dotted quads. */
  addresses: string[];
  /** v2 only: simple password (keepalived `auth_type PASS`), at most 8 bytes are significant. */
  password?: string;
}

/** An advertisement as received, with the IP header fields the receiver validates. */
export interface ReceivedAdvert extends Advert {
  src: string;
  dst: string;
  ttl: number;
  /** v2: 0 none, 1 pass; v3: always 0. */
  authType: number;
}

/** Why a packet was dropped by the decoder. Stable strings, used as counter names. */
export type DecodeError =
  | "truncated"
  | "oversized"
  | "not_ipv4"
  | "bad_ip_header"
  | "not_vrrp"
  | "fragment"
  | "bad_ttl"
  | "bad_version"
  | "bad_type"
  | "bad_checksum"
  | "bad_auth_type"
  | "bad_interval";

export type DecodeResult = { ok: true; advert: ReceivedAdvert } | { ok: false; reason: DecodeError; detail: string };

/** RFC 1071 Internet checksum over the given byte ranges (concatenated). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = -1;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      if (odd >= 0) {
        sum += (odd << 8) | part[i];
        odd = -1;
      } else if (i + 1 < part.length) {
        sum += (part[i] << 8) | part[i + 1];
        i++;
      } else {
        odd = part[i];
      }
    }
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function ipBytes(ip: string): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`"${ip}" is not an IPv4 address`);
  }
  return Uint8Array.from(parts);
}

function ipText(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The RFC 5798 §5.2.8 pseudo-header for IPv4 (RFC 791 style: src, dst, zero, protocol, length). */
function pseudoHeader(src: string, dst: string, length: number): Uint8Array {
  const p = new Uint8Array(12);
  p.set(ipBytes(src), 0);
  p.set(ipBytes(dst), 4);
  p[9] = VRRP_PROTOCOL;
  p[10] = length >> 8;
  p[11] = length & 0xff;
  return p;
}

/**
 * Encodes the VRRP part of an advertisement (no IP header).
 * src/dst are needed for the v3 checksum (pseudo-header). Throws RangeError on values that
 * cannot be put on the wire (vrid 1..255, priority 0..255, interval range, address count).
 */
export function encodeAdvert(advert: Advert, src: string, dst: string): Uint8Array {
  const { version, vrid, priority, addresses } = advert;
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new RangeError(`vrid ${vrid} is out of range (must be 1..255)`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw new RangeError(`priority ${priority} is out of range (must be 0..255)`);
  if (addresses.length < 1 || addresses.length > MAX_ADDRESSES) throw new RangeError(`${addresses.length} addresses (must be 1..${MAX_ADDRESSES})`);
  const authLen = version === 2 ? V2_AUTH_DATA : 0;
  const out = new Uint8Array(VRRP_HEADER + 4 * addresses.length + authLen);
  out[0] = (version << 4) | 1; // type 1 = ADVERTISEMENT
  out[1] = vrid;
  out[2] = priority;
  out[3] = addresses.length;
  if (version === 2) {
    // RFC 3768 §5.3.7: advertisement interval in seconds, one byte.
    const seconds = Math.round(advert.advertInterval / 1000);
    if (seconds < 1 || seconds > 255) throw new RangeError(`advert interval ${advert.advertInterval}ms is out of range for VRRPv2 (must be 1s..255s)`);
    out[4] = advert.password !== undefined ? AUTH_PASS : AUTH_NONE;
    out[5] = seconds;
  } else {
    // RFC 5798 §5.2.7: 12-bit Max Advertisement Interval in centiseconds.
    const cs = Math.round(advert.advertInterval / 10);
    if (cs < 1 || cs > 4095) throw new RangeError(`advert interval ${advert.advertInterval}ms is out of range for VRRPv3 (must be 10ms..40.95s)`);
    out[4] = cs >> 8;
    out[5] = cs & 0xff;
  }
  addresses.forEach((a, i) => out.set(ipBytes(a), VRRP_HEADER + 4 * i));
  if (version === 2 && advert.password !== undefined) {
    // RFC 2338 §5.3.10 simple text auth: the password, zero-padded, first 8 bytes (keepalived).
    out.set(new TextEncoder().encode(advert.password).subarray(0, V2_AUTH_DATA), VRRP_HEADER + 4 * addresses.length);
  }
  // v2: checksum over the VRRP message only (RFC 3768 §5.3.8); v3: plus pseudo-header (RFC 5798 §5.2.8).
  const sum = version === 2 ? internetChecksum(out) : internetChecksum(pseudoHeader(src, dst, out.length), out);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/**
 * Wraps a VRRP message in the IPv4 header sent with IP_HDRINCL: TOS 0xc0, TTL 255, protocol 112.
 * `id` is the IP identification (the caller counts).
 */
export function encodeIpPacket(src: string, dst: string, payload: Uint8Array, id = 0): Uint8Array {
  const total = IPV4_HEADER + payload.length;
  const out = new Uint8Array(total);
  out[0] = 0x45;
  out[1] = TOS_INTERNETWORK_CONTROL;
  out[2] = total >> 8;
  out[3] = total & 0xff;
  out[4] = (id >> 8) & 0xff;
  out[5] = id & 0xff;
  out[8] = VRRP_TTL;
  out[9] = VRRP_PROTOCOL;
  out.set(ipBytes(src), 12);
  out.set(ipBytes(dst), 16);
  const sum = internetChecksum(out.subarray(0, IPV4_HEADER));
  out[10] = sum >> 8;
  out[11] = sum & 0xff;
  out.set(payload, IPV4_HEADER);
  return out;
}

/** Encodes a whole IPv4 packet carrying one advertisement. */
export function encodePacket(advert: Advert, src: string, dst: string, id = 0): Uint8Array {
  return encodeIpPacket(src, dst, encodeAdvert(advert, src, dst), id);
}

function fail(reason: DecodeError, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Decodes an IPv4 packet (as a raw socket delivers it) carrying a VRRP advertisement.
 * Validates what needs no configuration: IP header, TTL 255, version, type, lengths, checksum,
 * v2 auth type and interval. Never throws; a bad packet yields `{ ok: false, reason, detail }`.
 * `expectVersion` rejects the other version (as "bad_version").
 */
export function decodePacket(bytes: Uint8Array, expectVersion?: 2 | 3): DecodeResult {
  if (bytes.length < IPV4_HEADER) return fail("truncated", `${bytes.length} bytes, shorter than an IPv4 header`);
  if (bytes.length > MAX_PACKET) return fail("oversized", `${bytes.length} bytes (at most ${MAX_PACKET})`);
  if (bytes[0] >> 4 !== 4) return fail("not_ipv4", `IP version ${bytes[0] >> 4}`);
  const ihl = (bytes[0] & 0x0f) * 4;
  if (ihl < IPV4_HEADER) return fail("bad_ip_header", `header length ${ihl}`);
  if (bytes.length < ihl) return fail("truncated", `${bytes.length} bytes, IP header says ${ihl}`);
  const total = (bytes[2] << 8) | bytes[3];
  if (total > bytes.length) return fail("truncated", `${bytes.length} bytes, IP total length says ${total}`);
  if (total < ihl) return fail("bad_ip_header", `total length ${total} below header length ${ihl}`);
  if (bytes[9] !== VRRP_PROTOCOL) return fail("not_vrrp", `IP protocol ${bytes[9]}`);
  if ((((bytes[6] & 0x1f) << 8) | bytes[7]) !== 0 || (bytes[6] & 0x20) !== 0) return fail("fragment", "fragmented packet");
  const ttl = bytes[8];
  const src = ipText(bytes, 12);
  const dst = ipText(bytes, 16);
  // Linux hands raw sockets the datagram with total length as sent; trailing bytes beyond it are padding.
  const vrrp = bytes.subarray(ihl, total);
  // RFC 5798 §7.1 / RFC 3768 §7.1: TTL must be 255 (the packet was not routed).
  if (ttl !== VRRP_TTL) return fail("bad_ttl", `TTL ${ttl} (must be 255)`);
  if (vrrp.length < VRRP_HEADER) return fail("truncated", `VRRP message of ${vrrp.length} bytes`);
  const version = vrrp[0] >> 4;
  if (version !== 2 && version !== 3) return fail("bad_version", `VRRP version ${version}`);
  if (expectVersion !== undefined && version !== expectVersion) return fail("bad_version", `VRRP version ${version}, configured ${expectVersion}`);
  if ((vrrp[0] & 0x0f) !== 1) return fail("bad_type", `VRRP type ${vrrp[0] & 0x0f} (only 1, ADVERTISEMENT)`);
  const count = vrrp[3];
  const expected = VRRP_HEADER + 4 * count + (version === 2 ? V2_AUTH_DATA : 0);
  if (vrrp.length < expected) return fail("truncated", `VRRP message of ${vrrp.length} bytes, ${count} addresses need ${expected}`);
  if (vrrp.length > expected) return fail("oversized", `VRRP message of ${vrrp.length} bytes, ${count} addresses need ${expected}`);
  if (count === 0) return fail("truncated", "advertisement with no address");
  const message = vrrp.subarray(0, expected);
  const sum = version === 2 ? internetChecksum(message) : internetChecksum(pseudoHeader(src, dst, message.length), message);
  if (sum !== 0) return fail("bad_checksum", `checksum 0x${((vrrp[6] << 8) | vrrp[7]).toString(16).padStart(4, "0")} does not verify`);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(ipText(vrrp, VRRP_HEADER + 4 * i));
  let advertInterval: number;
  let authType = 0;
  let password: string | undefined;
  if (version === 2) {
    authType = vrrp[4];
    if (authType !== AUTH_NONE && authType !== AUTH_PASS) return fail("bad_auth_type", `auth type ${authType} (supported: 0 none, 1 pass)`);
    if (vrrp[5] === 0) return fail("bad_interval", "advert interval 0");
    advertInterval = vrrp[5] * 1000;
    if (authType === AUTH_PASS) {
      const data = vrrp.subarray(VRRP_HEADER + 4 * count, expected);
      const end = data.indexOf(0);
      password = new TextDecoder().decode(end < 0 ? data : data.subarray(0, end));
    }
  } else {
    const cs = ((vrrp[4] & 0x0f) << 8) | vrrp[5];
    if (cs === 0) return fail("bad_interval", "advert interval 0");
    advertInterval = cs * 10;
  }
  return {
    ok: true,
    advert: { version: version as 2 | 3, vrid: vrrp[1], priority: vrrp[2], advertInterval, addresses, password, src, dst, ttl, authType },
  };
}

/** The bytes keepalived compares for PASS auth: the password, zero-padded/truncated to 8 bytes. */
export function passwordKey(password: string): string {
  const b = new Uint8Array(V2_AUTH_DATA);
  b.set(new TextEncoder().encode(password).subarray(0, V2_AUTH_DATA));
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
