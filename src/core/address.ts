// Address forms of the config: binds (ip:port, :port, ip:p1,p2, ip:p1-p2, [v6]:port) and CIDRs.

import { isIP } from "node:net";

/** 4 or 6 for an IPv4 or IPv6 address, else 0 (node:net's isIP, for code that stays off node:net). */
export const ipFamily: (text: string) => 0 | 4 | 6 = isIP as (text: string) => 0 | 4 | 6;

/** One bind line expanded: the host to listen on and every port it names. */
export interface BindSpec {
  host: string;
  ports: number[];
  /** The text as written, for messages. */
  text: string;
}

/** A parsed CIDR such as 192.168.8.248/24. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Largest expansion of one port range; a typo like 1-65535 should be deliberate. */
export const MAX_PORTS_PER_BIND = 4096;

/** Splits "host:portspec" / "[v6]:portspec" / ":portspec". Throws Error with a reason. */
function splitHostPort(text: string): { host: string; portSpec: string } {
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new Error(`missing "]" after the IPv6 address`);
    if (text[end + 1] !== ":") throw new Error(`expected ":port" after "]"`);
    return { host: text.slice(1, end), portSpec: text.slice(end + 2) };
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw new Error(`expected "address:port" or ":port"`);
  if (text.indexOf(":", colon + 1) >= 0 && !text.slice(colon + 1).includes(",")) {
    throw new Error(`an IPv6 address must be written in brackets, as "[::1]:80"`);
  }
  return { host: text.slice(0, colon), portSpec: text.slice(colon + 1) };
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a port number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range (must be 1..65535)`);
  return port;
}

/**
 * Parses a bind such as "192.168.8.248:110,135", "192.168.8.248:6001-6004", ":80", "[::1]:8080".
 * Throws Error whose message says what is wrong.
 */
export function parseBind(text: string): BindSpec {
  const trimmed = text.trim();
  const { host: rawHost, portSpec } = splitHostPort(trimmed);
  const host = rawHost === "" || rawHost === "*" ? "0.0.0.0" : rawHost;
  if (isIP(host) === 0) throw new Error(`"${rawHost}" is not an IP address`);
  if (portSpec === "") throw new Error(`missing port after ":"`);
  const ports: number[] = [];
  for (const part of portSpec.split(",")) {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (range) {
      const lo = parsePort(range[1]);
      const hi = parsePort(range[2]);
      if (hi < lo) throw new Error(`port range ${part} runs backwards`);
      if (hi - lo + 1 > MAX_PORTS_PER_BIND) throw new Error(`port range ${part} is larger than ${MAX_PORTS_PER_BIND} ports`);
      for (let p = lo; p <= hi; p++) ports.push(p);
    } else {
      ports.push(parsePort(part.trim()));
    }
  }
  return { host, ports: [...new Set(ports)], text: trimmed };
}

/** Parses "host:port" (one port, host required). Throws Error with a reason. */
export function parseHostPort(text: string): { host: string; port: number } {
  const { host, portSpec } = splitHostPort(text.trim());
  if (host === "") throw new Error(`missing address before ":"`);
  return { host, port: parsePort(portSpec) };
}

/** Parses "192.168.8.248/24" (prefix optional: /32 or /128). Throws Error with a reason. */
export function parseCidr(text: string): Cidr {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) throw new Error(`"${text}" has more than one "/"`);
  const family = isIP(address);
  if (family === 0) throw new Error(`"${address}" is not an IP address`);
  const max = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family: family as 4 | 6 };
  if (!/^\d+$/.test(prefixText) || Number(prefixText) > max) {
    throw new Error(`prefix "/${prefixText}" is out of range (must be 0..${max})`);
  }
  return { address, prefix: Number(prefixText), family: family as 4 | 6 };
}

/** IPv4 text → 32-bit unsigned number. */
export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => (acc * 256 + Number(part)) >>> 0, 0);
}

/** True when ip lies inside cidr (IPv4 and IPv4-mapped IPv6; plain IPv6 compared by prefix text). */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  if (cidr.family === 4) {
    if (isIP(v4) !== 4) return false;
    if (cidr.prefix === 0) return true;
    const mask = (~0 << (32 - cidr.prefix)) >>> 0;
    return ((ipv4ToInt(v4) & mask) >>> 0) === ((ipv4ToInt(cidr.address) & mask) >>> 0);
  }
  if (isIP(ip) !== 6) return false;
  const a = expandIPv6(ip);
  const b = expandIPv6(cidr.address);
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const byte = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((a[byte] & m) !== (b[byte] & m)) return false;
  }
  return true;
}

/** IPv6 text → 16 bytes. */
export function expandIPv6(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4tail) {
    const n = ipv4ToInt(v4tail[1]);
    tail = [n >>> 16, n & 0xffff];
    text = text.slice(0, -v4tail[1].length).replace(/:$/, ":0");
    text = text.endsWith(":0") ? text.slice(0, -2) : text;
  }
  const [head, rest] = text.split("::");
  const h = head ? head.split(":").filter((x) => x !== "").map((x) => parseInt(x, 16)) : [];
  const r = rest !== undefined ? (rest ? rest.split(":").map((x) => parseInt(x, 16)) : []) : [];
  const groups = [...h, ...new Array(8 - h.length - r.length - tail.length).fill(0), ...r, ...tail];
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** 16 bytes → IPv6 text in the canonical form of RFC 5952 §4 (lower case, longest zero run as "::"). */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  // RFC 5952 §4.2.2/§4.2.3: the longest run of two or more zero groups, the first when tied.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** An address in one text form per address: IPv6 canonical (RFC 5952), IPv4 as written. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? formatIPv6(expandIPv6(ip)) : ip;
}
