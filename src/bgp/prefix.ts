// IP prefixes as BGP carries them in NLRI and withdrawn-routes fields (RFC 4271 §4.3, RFC 4760 §5).

import { isIP } from "node:net";
import { expandIPv6, formatIPv6 } from "../core/address.ts";

/** An IPv4 or IPv6 prefix; `address` has its host bits cleared. */
export interface Prefix {
  family: 4 | 6;
  address: string;
  length: number;
}

/** "203.0.113.10/32": the key a prefix is known by (routes, logs, stats). */
export function prefixText(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

/** Address text → 4 or 16 bytes. */
export function addressBytes(address: string): Uint8Array {
  if (isIP(address) === 4) return Uint8Array.from(address.split(".").map(Number));
  return expandIPv6(address);
}

/** 4 or 16 bytes → address text (IPv6 in the RFC 5952 form: lower case, longest zero run as "::"). */
export function bytesAddress(b: Uint8Array): string {
  return b.length === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatIPv6(b);
}

/** A prefix from an address and a length, host bits cleared. */
export function makePrefix(address: string, length: number): Prefix {
  const family = isIP(address) === 6 ? 6 : 4;
  const bytes = addressBytes(address);
  for (let bit = length; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family, address: bytesAddress(bytes), length };
}

/** One prefix in NLRI encoding: the length in bits, then only the bytes it covers. */
export function encodePrefix(p: Prefix): Uint8Array {
  const bytes = addressBytes(p.address);
  const n = Math.ceil(p.length / 8);
  const out = new Uint8Array(1 + n);
  out[0] = p.length;
  out.set(bytes.subarray(0, n), 1);
  return out;
}

/**
 * Decodes a run of NLRI prefixes of one family. Returns undefined when the field is
 * syntactically wrong (a length above 32/128, or bytes that run past the field): the caller
 * turns that into the NOTIFICATION its field calls for.
 */
export function decodePrefixes(field: Uint8Array, family: 4 | 6): Prefix[] | undefined {
  const max = family === 4 ? 32 : 128;
  const out: Prefix[] = [];
  let at = 0;
  while (at < field.length) {
    const length = field[at];
    if (length > max) return undefined;
    const n = Math.ceil(length / 8);
    if (at + 1 + n > field.length) return undefined;
    const bytes = new Uint8Array(max / 8);
    bytes.set(field.subarray(at + 1, at + 1 + n));
    out.push(makePrefix(bytesAddress(bytes), length));
    at += 1 + n;
  }
  return out;
}
