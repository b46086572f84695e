// PROXY protocol v1 (text) and v2 (binary): encode towards servers, parse on accept_proxy binds.
// Spec: haproxy doc/proxy-protocol.txt (versions 1 and 2).

import { expandIPv6, ipFamily } from "../core/address.ts";

/** The connection's real endpoints as seen by the first proxy. */
export interface ProxiedAddresses {
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

/** Result of feeding bytes to the parser. */
export type ProxyParse =
  | { done: false }
  /** addresses undefined: LOCAL (v2) or UNKNOWN (v1) — use the socket's own addresses. */
  | { done: true; consumed: number; addresses?: ProxiedAddresses };

const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** §2.1: a v1 line is at most 107 bytes including CRLF. */
const V1_MAX = 107;

const unmap = (ip: string): string => (ip.startsWith("::ffff:") && ipFamily(ip.slice(7)) === 4 ? ip.slice(7) : ip);

/** Encodes a header: "v1" → "PROXY TCP4 src dst sport dport\r\n", "v2" → the binary form. */
export function encodeProxyHeader(version: "v1" | "v2", a: ProxiedAddresses): Buffer {
  const src = unmap(a.srcAddress);
  const dst = unmap(a.dstAddress);
  const v4 = ipFamily(src) === 4 && ipFamily(dst) === 4;
  const v6 = !v4 && ipFamily(src) !== 0 && ipFamily(dst) !== 0;
  if (version === "v1") {
    if (!v4 && !v6) return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
    const s = v4 ? src : a.srcAddress;
    const d = v4 ? dst : a.dstAddress;
    return Buffer.from(`PROXY ${v4 ? "TCP4" : "TCP6"} ${s} ${d} ${a.srcPort} ${a.dstPort}\r\n`, "latin1");
  }
  // §2.2: 12-byte signature, ver_cmd 0x21 (v2, PROXY), family, length, addresses.
  const addrLen = v4 ? 12 : v6 ? 36 : 0;
  const buf = Buffer.alloc(16 + addrLen);
  V2_SIG.copy(buf, 0);
  buf[12] = 0x21;
  buf[13] = v4 ? 0x11 : v6 ? 0x21 : 0x00;
  buf.writeUInt16BE(addrLen, 14);
  if (v4) {
    for (const [i, ip] of [src, dst].entries()) {
      ip.split(".").forEach((p, j) => (buf[16 + i * 4 + j] = Number(p)));
    }
    buf.writeUInt16BE(a.srcPort, 24);
    buf.writeUInt16BE(a.dstPort, 26);
  } else if (v6) {
    Buffer.from(expandIPv6(a.srcAddress)).copy(buf, 16);
    Buffer.from(expandIPv6(a.dstAddress)).copy(buf, 32);
    buf.writeUInt16BE(a.srcPort, 48);
    buf.writeUInt16BE(a.dstPort, 50);
  }
  return buf;
}

function v6Text(b: Buffer, off: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(off + i * 2).toString(16));
  return groups.join(":");
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`bad port "${text}"`);
  return Number(text);
}

/**
 * Parses a PROXY header at the start of buf (v1 or v2, detected by signature).
 * Returns done:false while more bytes are needed. Throws Error naming the problem when the
 * bytes are not a valid header (the caller closes the connection).
 */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { done: false };
  if (buf[0] === 0x0d) {
    const n = Math.min(buf.length, 12);
    if (!buf.subarray(0, n).equals(V2_SIG.subarray(0, n))) throw new Error("not a PROXY protocol header");
    if (buf.length < 16) return { done: false };
    const verCmd = buf[12];
    if (verCmd >> 4 !== 2) throw new Error(`PROXY v2: unsupported version ${verCmd >> 4}`);
    const len = buf.readUInt16BE(14);
    if (buf.length < 16 + len) return { done: false };
    const consumed = 16 + len;
    const cmd = verCmd & 0x0f;
    if (cmd === 0x0) return { done: true, consumed }; // LOCAL: health check from the proxy itself
    if (cmd !== 0x1) throw new Error(`PROXY v2: unknown command ${cmd}`);
    const fam = buf[13];
    if (fam === 0x11) {
      if (len < 12) throw new Error("PROXY v2: address block too short for TCP4");
      return {
        done: true,
        consumed,
        addresses: {
          srcAddress: [...buf.subarray(16, 20)].join("."),
          dstAddress: [...buf.subarray(20, 24)].join("."),
          srcPort: buf.readUInt16BE(24),
          dstPort: buf.readUInt16BE(26),
        },
      };
    }
    if (fam === 0x21) {
      if (len < 36) throw new Error("PROXY v2: address block too short for TCP6");
      return {
        done: true,
        consumed,
        addresses: { srcAddress: v6Text(buf, 16), dstAddress: v6Text(buf, 32), srcPort: buf.readUInt16BE(48), dstPort: buf.readUInt16BE(50) },
      };
    }
    return { done: true, consumed }; // UNSPEC or a family we do not route on: use socket addresses
  }
  const prefix = "PROXY ";
  const n = Math.min(buf.length, prefix.length);
  if (buf.toString("latin1", 0, n) !== prefix.slice(0, n)) throw new Error("not a PROXY protocol header");
  const eol = buf.indexOf("\r\n");
  if (eol < 0) {
    if (buf.length >= V1_MAX) throw new Error("PROXY v1 line longer than 107 bytes");
    return { done: false };
  }
  if (eol + 2 > V1_MAX) throw new Error("PROXY v1 line longer than 107 bytes");
  const parts = buf.toString("latin1", 0, eol).split(" ");
  if (parts[1] === "UNKNOWN") return { done: true, consumed: eol + 2 };
  if (parts.length !== 6) throw new Error("PROXY v1: expected 6 fields");
  const [, proto, src, dst, sport, dport] = parts;
  const fam = proto === "TCP4" ? 4 : proto === "TCP6" ? 6 : 0;
  if (fam === 0) throw new Error(`PROXY v1: unknown protocol "${proto}"`);
  if (ipFamily(src) !== fam || ipFamily(dst) !== fam) throw new Error(`PROXY v1: bad ${proto} address`);
  return { done: true, consumed: eol + 2, addresses: { srcAddress: src, dstAddress: dst, srcPort: parsePort(sport), dstPort: parsePort(dport) } };
}
