// Reads a TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) far enough to know whether the client takes ECDSA.

/** What the first bytes of a connection say. */
export interface HelloFacts {
  /** The first handshake record is complete in the bytes given. */
  complete: boolean;
  /** The client can verify an ECDSA certificate; undefined when the bytes do not tell (not TLS, cut short). */
  ecdsa: boolean | undefined;
}

/** TLS 1.2 cipher suites that need an ECDSA certificate (RFC 8422 §6, RFC 7905). */
const ECDSA_SUITES = new Set([0xc009, 0xc00a, 0xc023, 0xc024, 0xc02b, 0xc02c, 0xcca9, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af]);

/**
 * Looks at the first record: a signature_algorithms extension (RFC 8446 §4.2.3) with an ECDSA
 * scheme (0x04-0x06 03, or 0x0203) says yes; without the extension (TLS 1.2 clients may omit it),
 * an ECDHE-ECDSA cipher suite does. Never throws: malformed bytes give ecdsa undefined.
 */
export function helloFacts(buf: Buffer): HelloFacts {
  if (buf.length < 5) return { complete: false, ecdsa: undefined };
  if (buf[0] !== 22) return { complete: true, ecdsa: undefined };
  const recordEnd = 5 + buf.readUInt16BE(3);
  const complete = buf.length >= recordEnd;
  const end = Math.min(recordEnd, buf.length);
  let p = 5;
  // Handshake header: type 1 (client_hello), 3-byte length.
  if (end < p + 4 || buf[p] !== 1) return { complete: true, ecdsa: undefined };
  p += 4 + 2 + 32; // header, legacy_version, random
  if (end < p + 1) return { complete, ecdsa: undefined };
  p += 1 + buf[p]; // legacy_session_id
  if (end < p + 2) return { complete, ecdsa: undefined };
  const suitesLen = buf.readUInt16BE(p);
  p += 2;
  let ecdsaSuite = false;
  for (let i = p; i + 1 < Math.min(p + suitesLen, end); i += 2) if (ECDSA_SUITES.has(buf.readUInt16BE(i))) ecdsaSuite = true;
  p += suitesLen;
  if (end < p + 1) return { complete, ecdsa: undefined };
  p += 1 + buf[p]; // legacy_compression_methods
  if (end < p + 2) return { complete, ecdsa: complete ? ecdsaSuite : undefined };
  const extEnd = Math.min(p + 2 + buf.readUInt16BE(p), end);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 13 && p + 2 <= extEnd) {
      // signature_algorithms: SignatureScheme list
      const listEnd = Math.min(p + 2 + buf.readUInt16BE(p), extEnd);
      for (let i = p + 2; i + 1 < listEnd; i += 2) {
        const hi = buf[i];
        const lo = buf[i + 1];
        if ((lo === 3 && hi >= 4 && hi <= 6) || (hi === 2 && lo === 3)) return { complete, ecdsa: true };
      }
      return { complete, ecdsa: false };
    }
    p += len;
  }
  return { complete, ecdsa: complete ? ecdsaSuite : undefined };
}
