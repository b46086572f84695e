// VRRPv3 for IPv6 (RFC 5798): the advertisement without an IP header (a raw IPv6 socket carries
// the header's fields beside the payload), its checksum over the IPv6 pseudo-header.

import { expandIPv6, formatIPv6, ipFamily } from "../core/address.ts";
import { internetChecksum, MAX_ADDRESSES, MAX_PACKET, VRRP_PROTOCOL, VRRP_TTL, type Advert, type DecodeResult } from "./packet.ts";

/** The VRRP multicast group for IPv6 (RFC 5798 §5.1.2.2). */
export const VRRP_GROUP6 = "ff02::12";

const VRRP_HEADER = 8;

/** The IPv6 header fields a receiver validates, as the socket reports them. */
export interface Ipv6Fields {
  src: string;
  /** Destination (ff02::12 or our unicast address); without it the checksum cannot be verified. */
  dst?: string;
  /** RFC 5798 §7.1: must be 255. */
  hopLimit?: number;
}

function bytes6(ip: string): Uint8Array {
  if (ipFamily(ip) !== 6) throw new RangeError(`"${ip}" is not an IPv6 address`);
  return expandIPv6(ip);
}

/** The pseudo-header of RFC 8200 §8.1 (src, dst, upper-layer length, zeros, next header 112). */
function pseudoHeader6(src: string, dst: string, length: number): Uint8Array {
  const p = new Uint8Array(40);
  p.set(bytes6(src), 0);
  p.set(bytes6(dst), 16);
  new DataView(p.buffer).setUint32(32, length);
  p[39] = VRRP_PROTOCOL;
  return p;
}

/**
 * Encodes a VRRPv3 advertisement for IPv6 (RFC 5798 §5.2): 16-byte addresses, the checksum over
 * the IPv6 pseudo-header of src and dst (RFC 5798 §5.2.8). Throws RangeError on values that cannot
 * be put on the wire.
 */
export function encodeAdvert6(advert: Advert, src: string, dst: string): Uint8Array {
  const { vrid, priority, addresses } = advert;
  if (advert.version !== 3) throw new RangeError("VRRP over IPv6 is version 3 only (RFC 5798 §1)");
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) throw new RangeError(`vrid ${vrid} is out of range (must be 1..255)`);
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw new RangeError(`priority ${priority} is out of range (must be 0..255)`);
  if (addresses.length < 1 || addresses.length > MAX_ADDRESSES) throw new RangeError(`${addresses.length} addresses (must be 1..${MAX_ADDRESSES})`);
  const cs = Math.round(advert.advertInterval / 10);
  if (cs < 1 || cs > 4095) throw new RangeError(`advert interval ${advert.advertInterval}ms is out of range for VRRPv3 (must be 10ms..40.95s)`);
  const out = new Uint8Array(VRRP_HEADER + 16 * addresses.length);
  out[0] = (3 << 4) | 1;
  out[1] = vrid;
  out[2] = priority;
  out[3] = addresses.length;
  out[4] = cs >> 8;
  out[5] = cs & 0xff;
  addresses.forEach((a, i) => out.set(bytes6(a), VRRP_HEADER + 16 * i));
  const sum = internetChecksum(pseudoHeader6(src, dst, out.length), out);
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/**
 * Decodes the payload of a raw IPv6 socket as a VRRPv3 advertisement and validates what needs no
 * configuration: hop limit 255, version 3, type, lengths, checksum (when the destination is
 * known), interval. Never throws.
 */
export function decodeAdvert6(payload: Uint8Array, ip: Ipv6Fields): DecodeResult {
  const fail = (reason: Extract<DecodeResult, { ok: false }>["reason"], detail: string): DecodeResult => ({ ok: false, reason, detail });
  if (payload.length > MAX_PACKET) return fail("oversized", `${payload.length} bytes (at most ${MAX_PACKET})`);
  // RFC 5798 §7.1: the hop limit must be 255 (the packet was not routed).
  if (ip.hopLimit !== undefined && ip.hopLimit !== VRRP_TTL) return fail("bad_ttl", `hop limit ${ip.hopLimit} (must be 255)`);
  if (payload.length < VRRP_HEADER) return fail("truncated", `VRRP message of ${payload.length} bytes`);
  const version = payload[0] >> 4;
  if (version !== 3) return fail("bad_version", `VRRP version ${version} over IPv6 (only 3 exists)`);
  if ((payload[0] & 0x0f) !== 1) return fail("bad_type", `VRRP type ${payload[0] & 0x0f} (only 1, ADVERTISEMENT)`);
  const count = payload[3];
  const expected = VRRP_HEADER + 16 * count;
  if (payload.length < expected) return fail("truncated", `VRRP message of ${payload.length} bytes, ${count} IPv6 addresses need ${expected}`);
  if (payload.length > expected) return fail("oversized", `VRRP message of ${payload.length} bytes, ${count} IPv6 addresses need ${expected}`);
  if (count === 0) return fail("truncated", "advertisement with no address");
  if (ip.dst !== undefined && internetChecksum(pseudoHeader6(ip.src, ip.dst, expected), payload) !== 0) {
    return fail("bad_checksum", `checksum 0x${((payload[6] << 8) | payload[7]).toString(16).padStart(4, "0")} does not verify`);
  }
  const cs = ((payload[4] & 0x0f) << 8) | payload[5];
  if (cs === 0) return fail("bad_interval", "advert interval 0");
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIPv6(payload.subarray(VRRP_HEADER + 16 * i, VRRP_HEADER + 16 * (i + 1))));
  return {
    ok: true,
    advert: { version: 3, vrid: payload[1], priority: payload[2], advertInterval: cs * 10, addresses, src: ip.src, dst: ip.dst ?? "", ttl: ip.hopLimit ?? VRRP_TTL, authType: 0 },
  };
}
