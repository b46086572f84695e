// Generated HTTP/1.1 messages (RFC 9112 grammar) and their mutations, for the fuzz tests; seeded, so a failure replays.

import type { Socket } from "node:net";

/** Deterministic pseudo-random numbers in [0, 1) (an LCG): a failure replays with the same seed. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/** The seed and time budget of a fuzz run: TANDEM_FUZZ_SEED / TANDEM_FUZZ_MS (npm run fuzz), else the CI defaults. */
export function fuzzRun(defaultMs: number): { seed: number; ms: number } {
  const seed = Number(process.env.TANDEM_FUZZ_SEED ?? 20261125);
  const ms = Number(process.env.TANDEM_FUZZ_MS ?? defaultMs);
  return { seed: Number.isFinite(seed) ? seed : 20261125, ms: Number.isFinite(ms) && ms > 0 ? ms : defaultMs };
}

/** Where a part of a generated message sits, so mutations can aim at it. */
export type RegionKind = "request-line" | "status-line" | "name" | "value" | "chunk-line" | "trailer";

export interface Generated {
  bytes: Buffer;
  /** [start, end, kind]: byte ranges of the parts the grammar produced. */
  regions: [number, number, RegionKind][];
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)];
const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PCHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@";

function chars(rnd: () => number, alphabet: string, min: number, max: number): string {
  let s = "";
  for (let n = min + Math.floor(rnd() * (max - min + 1)); n > 0; n--) s += alphabet[Math.floor(rnd() * alphabet.length)];
  return s;
}

/** field-value (RFC 9110 §5.5): field-vchars with single spaces inside, sometimes obs-text. */
function fieldValue(rnd: () => number): string {
  const words = [];
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) words.push(chars(rnd, rnd() < 0.1 ? "caf\xe9\xff" : TCHARS + "/:;=?@()[]{}\"", 1, 8));
  return words.join(" ");
}

/** Builds a message piece by piece, recording the regions. */
class Builder {
  parts: string[] = [];
  regions: [number, number, RegionKind][] = [];
  length = 0;

  add(text: string, kind?: RegionKind): void {
    if (kind) this.regions.push([this.length, this.length + text.length, kind]);
    this.parts.push(text);
    this.length += text.length;
  }

  field(name: string, value: string): void {
    this.add(name, "name");
    this.add(": ");
    this.add(value, "value");
    this.add("\r\n");
  }

  /** A chunked body (RFC 9112 §7.1): chunks with extensions sometimes, the last chunk, trailers sometimes. */
  chunked(rnd: () => number, payload: string): void {
    let at = 0;
    while (at < payload.length) {
      const n = Math.min(payload.length - at, 1 + Math.floor(rnd() * 12));
      const ext = rnd() < 0.3 ? `;${chars(rnd, TCHARS, 1, 4)}${rnd() < 0.5 ? `=${rnd() < 0.5 ? chars(rnd, TCHARS, 1, 4) : `"${chars(rnd, "ab ;,=", 0, 4)}"`}` : ""}` : "";
      this.add(n.toString(16) + ext, "chunk-line");
      this.add("\r\n" + payload.slice(at, at + n) + "\r\n");
      at += n;
    }
    this.add("0", "chunk-line");
    this.add("\r\n");
    if (rnd() < 0.3) {
      this.add(`X-T${chars(rnd, TCHARS, 0, 3)}: ${fieldValue(rnd)}`, "trailer");
      this.add("\r\n");
    }
    this.add("\r\n");
  }

  done(): Generated {
    return { bytes: Buffer.from(this.parts.join(""), "latin1"), regions: this.regions };
  }
}

/** A request from the RFC 9112 grammar: request-line, Host, a few fields, no body / Content-Length / chunked. */
export function generateRequest(rnd: () => number): Generated {
  const b = new Builder();
  const method = pick(rnd, ["GET", "GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", chars(rnd, TCHARS, 1, 6)]);
  const minor = rnd() < 0.85 ? 1 : 0;
  let target = "";
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) target += "/" + chars(rnd, PCHARS, 0, 6);
  if (rnd() < 0.4) target += "?" + chars(rnd, PCHARS + "/?", 1, 10);
  b.add(`${method} ${target} HTTP/1.${minor}`, "request-line");
  b.add("\r\n");
  b.field("Host", pick(rnd, ["a.example", "127.0.0.1:8080", "b.example:80"]));
  for (let n = Math.floor(rnd() * 4); n > 0; n--) b.field(rnd() < 0.3 ? pick(rnd, ["Accept", "User-Agent", "Cookie", "X-Forwarded-For"]) : `X-${chars(rnd, TCHARS, 1, 6)}`, fieldValue(rnd));
  const payload = chars(rnd, "abcdefgh0123\r\n", 0, 30);
  const framing = rnd();
  if (framing < 0.35 || payload === "") b.add("\r\n");
  else if (framing < 0.65 || minor === 0) {
    b.field("Content-Length", String(payload.length));
    b.add("\r\n" + payload);
  } else {
    b.field("Transfer-Encoding", "chunked");
    b.add("\r\n");
    b.chunked(rnd, payload);
  }
  return b.done();
}

/** A response from the grammar: status-line, a few fields, Content-Length / chunked / until close, or none (204, 304). */
export function generateResponse(rnd: () => number): Generated {
  const b = new Builder();
  const status = pick(rnd, [200, 200, 201, 204, 206, 301, 304, 404, 500]);
  b.add(`HTTP/1.${rnd() < 0.9 ? 1 : 0} ${status} ${chars(rnd, "ABCDEFGHIJKLMNOP ", 0, 10)}`, "status-line");
  b.add("\r\n");
  for (let n = Math.floor(rnd() * 4); n > 0; n--) b.field(rnd() < 0.3 ? pick(rnd, ["Server", "Content-Type", "Set-Cookie", "Cache-Control"]) : `X-${chars(rnd, TCHARS, 1, 6)}`, fieldValue(rnd));
  const payload = status === 204 || status === 304 ? "" : chars(rnd, "ijklmnop4567\r\n", 0, 30);
  const framing = rnd();
  if (status === 204 || status === 304) b.add("\r\n");
  else if (framing < 0.45) {
    b.field("Content-Length", String(payload.length));
    b.add("\r\n" + payload);
  } else if (framing < 0.85) {
    b.field("Transfer-Encoding", "chunked");
    b.add("\r\n");
    b.chunked(rnd, payload);
  } else b.add("\r\n" + payload); // read until close (RFC 9112 §6.3 item 8)
  return b.done();
}

/** One mutation: replace the byte at `at`, or insert `byte` before it. */
export interface Mutation {
  at: number;
  byte: number;
  insert: boolean;
}

export function applyMutation(bytes: Buffer, m: Mutation): Buffer {
  if (m.insert) return Buffer.concat([bytes.subarray(0, m.at), Buffer.from([m.byte]), bytes.subarray(m.at)]);
  const out = Buffer.from(bytes);
  out[m.at] = m.byte;
  return out;
}

/**
 * Every byte 0x00-0xFF replacing, and inserted before, every position of the regions the grammar
 * produced (request or status line, field names and values, chunk lines, trailers), and just after each.
 */
export function* everyByteEverywhere(g: Generated): Generator<Mutation> {
  for (const [start, end] of g.regions) {
    for (let at = start; at <= end; at++) {
      for (let byte = 0; byte < 256; byte++) {
        if (at < end) yield { at, byte, insert: false };
        yield { at, byte, insert: true };
      }
    }
  }
}

/** A random mutation inside a random region. */
export function randomMutation(g: Generated, rnd: () => number): Mutation {
  const [start, end] = pick(rnd, g.regions);
  const at = start + Math.floor(rnd() * (end - start + 1));
  return { at, byte: Math.floor(rnd() * 256), insert: at === end || rnd() < 0.5 };
}

/** Bytes and fragments that break framing: line ends, NUL, DEL, huge sizes, a second length. */
const JUNK = ["\r", "\n", "\0", " ", ":", "\t", "\r\n", "\r\n\r\n", "0", "ffffffffffffffffff", "Content-Length: 9\r\n", "Transfer-Encoding: chunked\r\n", "\x7f", "\xff", "Host: b\r\n", ","];

/** Up to three edits anywhere: a byte replaced, junk inserted, bytes dropped, the end cut, the tail repeated. */
export function mutate(text: string | Buffer, rnd: () => number): Buffer {
  let b = typeof text === "string" ? Buffer.from(text, "latin1") : Buffer.from(text);
  const edits = Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(JUNK[Math.floor(rnd() * JUNK.length)], "latin1"), b.subarray(at)]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 8)))]);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      default:
        b = Buffer.concat([b, b.subarray(at)]);
    }
  }
  return b;
}

/** Writes b in random pieces, sometimes pausing a few ms between them. */
export async function trickle(s: Socket, b: Buffer, rnd: () => number): Promise<void> {
  for (let i = 0; i < b.length && !s.destroyed;) {
    const n = rnd() < 0.5 ? b.length - i : 1 + Math.floor(rnd() * 16);
    s.write(b.subarray(i, i + n));
    i += n;
    if (rnd() < 0.2) await new Promise((r) => setTimeout(r, Math.floor(rnd() * 5)));
  }
}
