// sockaddr_in / sockaddr_in6 in native memory: written for bind(2) and connect(2), read after
// accept4(2) and getsockname(2); addresses formatted as node:net formats them.

import { expandIPv6, ipFamily, ipv4ToInt } from "../core/address.ts";
import { SYS } from "./fd_sys.ts";

/** sizeof(struct sockaddr_in6): room for either family. */
export const SOCKADDR_MAX = 28;

/**
 * Writes host:port (an IP address) at buf[0..] as the sockaddr of its family; returns its length
 * (16 or 28). Throws Error when host is not an IP address.
 */
export function writeSockaddr(buf: Buffer, host: string, port: number): number {
  const family = ipFamily(host);
  if (family === 4) {
    buf.fill(0, 0, 16);
    buf.writeUInt16LE(SYS.AF_INET, 0);
    buf.writeUInt16BE(port, 2);
    buf.writeUInt32BE(ipv4ToInt(host), 4);
    return 16;
  }
  if (family === 6) {
    buf.fill(0, 0, 28);
    buf.writeUInt16LE(SYS.AF_INET6, 0);
    buf.writeUInt16BE(port, 2);
    buf.set(expandIPv6(host), 8);
    return 28;
  }
  throw new Error(`"${host}" is not an IP address`);
}

/** The port of the sockaddr at buf[0..]. */
export function sockaddrPort(buf: Buffer): number {
  return buf.readUInt16BE(2);
}

/**
 * The address of the sockaddr at buf[0..] in compact form: a number for IPv4 (formatted on
 * demand by addressText), 16 copied bytes for IPv6, undefined for another family.
 */
export function sockaddrAddress(buf: Buffer): number | Buffer | undefined {
  const family = buf.readUInt16LE(0);
  if (family === SYS.AF_INET) return buf.readUInt32BE(4);
  if (family === SYS.AF_INET6) return Buffer.from(buf.subarray(8, 24));
  return undefined;
}

/** "1.2.3.4" / "::ffff:1.2.3.4" / "2001:db8::1" from sockaddrAddress's form. */
export function addressText(a: number | Buffer): string {
  return typeof a === "number" ? ipv4Text(a) : ipv6Text(a);
}

function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text of 16 bytes (libuv's inet_ntop, which node:net uses: IPv4-mapped and -compatible forms). */
function ipv6Text(b: Buffer): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  // The longest run of two or more zero words (the first one on a tie) becomes "::".
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (bestLen < 2) best = -1;
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    return `::${bestLen === 5 ? "ffff:" : ""}${ipv4Text(b.readUInt32BE(12))}`;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += words[i].toString(16);
  }
  return out;
}
