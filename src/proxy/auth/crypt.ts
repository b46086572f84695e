// crypt(3) password hashes as haproxy's userlists take them: SHA-512 ($6$), SHA-256 ($5$) and MD5 ($1$).
//
// node:crypto has no crypt(3); these are the documented algorithms: U. Drepper, "Unix crypt using
// SHA-256 and SHA-512" (the $5$/$6$ specification glibc and libxcrypt implement), and P.-H. Kamp's
// MD5-crypt (FreeBSD, $1$). Tests compare with `openssl passwd -1/-5/-6` outputs.

import { createHash, timingSafeEqual } from "node:crypto";
import type { Hash } from "node:crypto";

const B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The schemes this module computes. */
export type CryptScheme = "sha512" | "sha256" | "md5";

/** A parsed hash: scheme, rounds, salt and the encoded digest. */
export interface CryptHash {
  scheme: CryptScheme;
  /** Written explicitly ("rounds=N$"), else the scheme's default. */
  rounds: number;
  explicitRounds: boolean;
  salt: string;
  digest: string;
}

const DIGEST_LENGTH: Record<CryptScheme, number> = { sha512: 86, sha256: 43, md5: 22 };

/** The scheme of a stored hash from its prefix, or what it is when tandem cannot compute it. */
export function cryptScheme(hash: string): CryptScheme | { unsupported: string } {
  if (hash.startsWith("$6$")) return "sha512";
  if (hash.startsWith("$5$")) return "sha256";
  if (hash.startsWith("$1$")) return "md5";
  if (/^\$2[abxy]?\$/.test(hash)) return { unsupported: "bcrypt ($2b$)" };
  if (hash.startsWith("$y$")) return { unsupported: "yescrypt ($y$)" };
  if (hash.startsWith("$7$")) return { unsupported: "scrypt ($7$)" };
  if (hash.startsWith("$gy$")) return { unsupported: "gost-yescrypt ($gy$)" };
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return { unsupported: "traditional DES crypt" };
  if (hash.startsWith("_")) return { unsupported: "BSDi extended DES crypt" };
  return { unsupported: "an unknown format" };
}

/**
 * Splits "$6$[rounds=N$]salt$digest" into its parts. Returns undefined when the text is not a
 * well-formed hash of a scheme this module computes (it can then match no password).
 */
export function parseCryptHash(hash: string): CryptHash | undefined {
  const scheme = cryptScheme(hash);
  if (typeof scheme !== "string") return undefined;
  const parts = hash.split("$");
  // ["", id, (rounds=N,) salt, digest]
  let i = 2;
  let rounds = scheme === "md5" ? 1000 : 5000;
  let explicitRounds = false;
  if (scheme !== "md5" && parts[i]?.startsWith("rounds=")) {
    const n = Number(parts[i].slice(7));
    if (!Number.isInteger(n) || n < 1) return undefined;
    // Drepper's spec clamps the count to 1000..999999999.
    rounds = Math.min(999_999_999, Math.max(1000, n));
    explicitRounds = true;
    i++;
  }
  if (parts.length !== i + 2) return undefined;
  const salt = parts[i];
  const digest = parts[i + 1];
  if (salt.length > (scheme === "md5" ? 8 : 16) || digest.length !== DIGEST_LENGTH[scheme] || ![...digest].every((c) => B64.includes(c))) return undefined;
  return { scheme, rounds, explicitRounds, salt, digest };
}

/** Computes the full hash text of password for a parsed setting (same scheme, rounds and salt). */
export function cryptHash(password: string, setting: CryptHash): string {
  const pw = Buffer.from(password, "utf8");
  const salt = Buffer.from(setting.salt, "utf8");
  if (setting.scheme === "md5") return `$1$${setting.salt}$${md5Crypt(pw, salt)}`;
  const rounds = setting.explicitRounds ? `rounds=${setting.rounds}$` : "";
  const id = setting.scheme === "sha512" ? "6" : "5";
  return `$${id}$${rounds}${setting.salt}$${shaCrypt(setting.scheme, pw, salt, setting.rounds)}`;
}

/** True when password hashes to stored (compared in constant time). A malformed stored hash matches nothing. */
export function cryptVerify(password: string, stored: string): boolean {
  const setting = parseCryptHash(stored);
  if (!setting) return false;
  const got = Buffer.from(cryptHash(password, setting));
  const want = Buffer.from(stored);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** n base-64 characters of the 24-bit value b2 b1 b0, least significant 6 bits first. */
function b64(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = "";
  for (let i = 0; i < n; i++) {
    out += B64[w & 0x3f];
    w >>= 6;
  }
  return out;
}

/** `length` bytes of block repeated (the P and S sequences of the specification). */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let o = 0; o < length; o += block.length) block.copy(out, o, 0, Math.min(block.length, length - o));
  return out;
}

/** Steps 1-21 of "Unix crypt using SHA-256 and SHA-512", then the encoding of step 22. */
function shaCrypt(scheme: "sha512" | "sha256", pw: Buffer, salt: Buffer, rounds: number): string {
  const alg = scheme === "sha512" ? "sha512" : "sha256";
  const h = (): Hash => createHash(alg);
  const b = h().update(pw).update(salt).update(pw).digest();
  const a = h().update(pw).update(salt);
  a.update(repeatTo(b, pw.length));
  for (let n = pw.length; n > 0; n >>= 1) a.update(n & 1 ? b : pw);
  let digest = a.digest();
  const dp = h();
  for (let i = 0; i < pw.length; i++) dp.update(pw);
  const p = repeatTo(dp.digest(), pw.length);
  const ds = h();
  for (let i = 0; i < 16 + digest[0]; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);
  for (let i = 0; i < rounds; i++) {
    const c = h();
    c.update(i & 1 ? p : digest);
    if (i % 3 !== 0) c.update(s);
    if (i % 7 !== 0) c.update(p);
    c.update(i & 1 ? digest : p);
    digest = c.digest();
  }
  const d = digest;
  if (scheme === "sha256") {
    const order = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]];
    return order.map(([x, y, z]) => b64(d[x], d[y], d[z], 4)).join("") + b64(0, d[31], d[30], 3);
  }
  let out = "";
  // SHA-512: triples (i, i+21, i+42) rotated as the specification lists them.
  for (let i = 0; i < 21; i++) {
    const t = [i, i + 21, i + 42];
    const r = i % 3;
    out += b64(d[t[r]], d[t[(r + 1) % 3]], d[t[(r + 2) % 3]], 4);
  }
  return out + b64(0, 0, d[63], 2);
}

/** MD5-crypt: the FreeBSD algorithm ("$1$"), 1000 rounds. */
function md5Crypt(pw: Buffer, salt: Buffer): string {
  const magic = Buffer.from("$1$");
  const alt = createHash("md5").update(pw).update(salt).update(pw).digest();
  const ctx = createHash("md5").update(pw).update(magic).update(salt);
  for (let n = pw.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(n, 16)));
  for (let n = pw.length; n > 0; n >>= 1) ctx.update(n & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let d = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash("md5");
    c.update(i & 1 ? pw : d);
    if (i % 3 !== 0) c.update(salt);
    if (i % 7 !== 0) c.update(pw);
    c.update(i & 1 ? d : pw);
    d = c.digest();
  }
  return b64(d[0], d[6], d[12], 4) + b64(d[1], d[7], d[13], 4) + b64(d[2], d[8], d[14], 4) + b64(d[3], d[9], d[15], 4) + b64(d[4], d[10], d[5], 4) + b64(0, 0, d[11], 2);
}
