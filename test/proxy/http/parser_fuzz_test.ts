// The parser against the reference parser (test/helpers/rfc9112.ts): every byte in every position of generated messages.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BodyDecoder, requestBodyMode, responseBodyMode } from "../../../src/proxy/http/body.ts";
import type { HttpMessage } from "../../../src/proxy/http/message.ts";
import { HeadParser, HttpParseError } from "../../../src/proxy/http/parser.ts";
import { applyMutation, everyByteEverywhere, fuzzRun, generateRequest, generateResponse, lcg, randomMutation } from "../../helpers/http_fuzz.ts";
import type { Generated } from "../../helpers/http_fuzz.ts";
import { parseMessages } from "../../helpers/rfc9112.ts";
import type { RefMessage } from "../../helpers/rfc9112.ts";

const LIMITS = { requestLine: 8192, headerBytes: 16384, headerCount: 100 };

/** What the product made of one message: refused, waiting for more, or accepted with what it would forward. */
type Outcome =
  | { kind: "refused"; status: number; why: string }
  | { kind: "incomplete" }
  | { kind: "accepted"; head: HttpMessage; mode: string; payload: Buffer; consumed: number; forwarded: Buffer };

/**
 * Runs HeadParser and BodyDecoder over the bytes as the session does (a response's interim 1xx
 * heads are skipped). forwarded: the head as it would be sent (requestBytes / responseBytes) and
 * the body bytes as received (tandem forwards Content-Length and chunked bodies unchanged).
 */
function product(kind: "request" | "response", bytes: Buffer): Outcome {
  const p = new HeadParser(kind, LIMITS);
  const dec = new BodyDecoder(kind === "request" ? 400 : 502);
  try {
    let at = 0;
    let head = p.push(bytes);
    while (head && kind === "response" && head.status < 200 && head.status !== 101) {
      at = bytes.length - (p.rest?.length ?? 0);
      p.reset();
      head = p.rest === undefined ? undefined : p.push(bytes.subarray(at));
      if (at === bytes.length) head = undefined;
    }
    if (!head) return { kind: "incomplete" };
    const start = bytes.length - (p.rest?.length ?? 0);
    const rest = bytes.subarray(start);
    const mode = kind === "request" ? requestBodyMode(head) : responseBodyMode(head, "GET");
    dec.reset(mode, head.contentLength);
    const payload: Buffer[] = [];
    const end = dec.feed(rest, 0, (b, s, e) => payload.push(Buffer.from(b.subarray(s, e))));
    if (!dec.done && !(kind === "response" && dec.end())) return { kind: "incomplete" };
    // The session gives an HTTP/1.0 request without Host the address it came to (it goes on as HTTP/1.1).
    if (kind === "request" && head.minor === 0 && head.indexOf("host") < 0) head.add("Host", "127.0.0.1:80");
    const headBytes = kind === "request" ? head.requestBytes() : head.responseBytes();
    return { kind: "accepted", head, mode, payload: Buffer.concat(payload), consumed: start + end, forwarded: Buffer.concat([headBytes, rest.subarray(0, end)]) };
  } catch (err) {
    if (err instanceof HttpParseError) return { kind: "refused", status: err.status, why: err.message };
    throw err;
  }
}

/** The first final message of a reference parse (responses: interim 1xx skipped). */
function firstFinal(ms: RefMessage[], kind: "request" | "response"): RefMessage | undefined {
  return kind === "request" ? ms[0] : ms.find((m) => m.status >= 200 || m.status === 101);
}

interface Tally {
  cases: number;
  accepted: number;
  refused: number;
  /** Accepted by the reference (lenient), refused by tandem: tandem is stricter there. */
  stricter: number;
  /** tandem's reasons for those, with an example input. */
  stricterWhy: Map<string, string>;
  violations: string[];
}

/**
 * The invariant, for one input: when tandem accepts a message, (1) the reference, reading the
 * same bytes with a recipient's allowances, finds the same message (same end, framing and
 * payload: no desync), and (2) what tandem would forward is exactly one message under the strict
 * reference, framed as tandem framed it. When the reference finds a complete message where tandem
 * still waits for bytes, a peer would move on where tandem does not: also a violation.
 */
function check(kind: "request" | "response", input: Buffer, t: Tally): void {
  t.cases++;
  const got = product(kind, input);
  const lenient = parseMessages(input, { kind, lenient: true, closed: true });
  const ref = firstFinal(lenient.messages, kind);
  const show = () => JSON.stringify(input.toString("latin1"));
  if (got.kind === "refused") {
    t.refused++;
    if (ref) {
      t.stricter++;
      t.stricterWhy.set(got.why.replace(/"[^"]*"/g, "S").replace(/0x[0-9a-f]+/g, "X"), show());
    }
    return;
  }
  if (got.kind === "incomplete") {
    if (ref && ref.framing !== "close") t.violations.push(`${show()}: the reference reads a whole message, tandem waits for more`);
    return;
  }
  t.accepted++;
  const framing = got.mode;
  if (!ref) return void t.violations.push(`${show()}: tandem accepts, the reference (lenient) says ${lenient.end}: ${lenient.error ?? ""}`);
  const same = (m: RefMessage, what: string): boolean => {
    if (m.framing !== framing) return void t.violations.push(`${show()}: ${what}: framing ${m.framing}, tandem ${framing}`) ?? false;
    if (!m.body.equals(got.payload)) return void t.violations.push(`${show()}: ${what}: payload ${JSON.stringify(m.body.toString("latin1"))}, tandem ${JSON.stringify(got.payload.toString("latin1"))}`) ?? false;
    if (kind === "request" && m.method !== got.head.method) return void t.violations.push(`${show()}: ${what}: method ${m.method}, tandem ${got.head.method}`) ?? false;
    if (kind === "response" && m.status !== got.head.status) return void t.violations.push(`${show()}: ${what}: status ${m.status}, tandem ${got.head.status}`) ?? false;
    return true;
  };
  if (!same(ref, "as received") || ref.end !== got.consumed) {
    if (ref.end !== got.consumed) t.violations.push(`${show()}: the message ends at ${ref.end} for the reference, at ${got.consumed} for tandem`);
    return;
  }
  const strict = parseMessages(got.forwarded, { kind, closed: true });
  const fwd = strict.messages;
  if (strict.end !== "clean" && strict.end !== "switched" || fwd.length !== 1) {
    return void t.violations.push(`${show()}: forwarded as ${JSON.stringify(got.forwarded.toString("latin1"))}: ${fwd.length} message(s), ${strict.end} ${strict.error ?? ""}`);
  }
  same(fwd[0], "as forwarded");
}

/** The given bases exhaustively, then until the deadline: random mutated messages, and every byte everywhere of one more base now and then. */
function run(kind: "request" | "response", bases: Generated[], rnd: () => number, deadline: number): Tally {
  const t: Tally = { cases: 0, accepted: 0, refused: 0, stricter: 0, stricterWhy: new Map(), violations: [] };
  const exhaustive = (g: Generated) => {
    check(kind, g.bytes, t);
    for (const m of everyByteEverywhere(g)) check(kind, applyMutation(g.bytes, m), t);
  };
  for (const g of bases) exhaustive(g);
  const gen = kind === "request" ? generateRequest : generateResponse;
  for (let round = 0; Date.now() < deadline; round++) {
    if (round % 20 === 19) exhaustive(gen(rnd));
    for (let i = 0; i < 2000; i++) {
      const g = gen(rnd);
      let b = g.bytes;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) b = applyMutation(b, randomMutation({ bytes: b, regions: g.regions.filter(([, e]) => e <= b.length) }, rnd));
      check(kind, b, t);
    }
  }
  return t;
}

describe("tandem's parser against the RFC 9112 reference parser", () => {
  const { seed, ms } = fuzzRun(6000);
  for (const kind of ["request", "response"] as const) {
    it(`${kind}s: every byte in every position of generated ${kind}s, then random ones (seed ${seed})`, () => {
      const rnd = lcg(seed + (kind === "request" ? 0 : 1));
      const gen = kind === "request" ? generateRequest : generateResponse;
      // The exhaustive part: a few grammar-made messages (one of each framing), every byte everywhere.
      const bases: Generated[] = [];
      for (let i = 0; i < 200 && bases.length < 3; i++) {
        const g = gen(rnd);
        const text = g.bytes.toString("latin1");
        const want = ["Content-Length", "Transfer-Encoding", kind === "request" ? "\r\n\r\n" : " 204 "][bases.length];
        if (text.includes(want) && g.bytes.length < 160) bases.push(g);
      }
      const t = run(kind, bases, rnd, Date.now() + ms / 2);
      process.stdout.write(`# ${kind}s: ${t.cases} cases, ${t.accepted} accepted, ${t.refused} refused (${t.stricter} of them accepted by the lenient reference)\n`);
      if (process.env.FUZZ_GROUP) {
        const groups = new Map<string, string>();
        for (const v of t.violations) groups.set(v.replace(/^".*?[^\\]": /s, "").replace(/"[^"]*"/g, "S").replace(/\d+/g, "N"), v);
        for (const [k, v] of groups) process.stdout.write(`## ${k}\n   ${v.slice(0, 400)}\n`);
        for (const [k, v] of t.stricterWhy) process.stdout.write(`## stricter: ${k}\n   ${v.slice(0, 300)}\n`);
      }
      assert.deepEqual(t.violations.slice(0, 20), [], `${t.violations.length} violations`);
      assert.ok(t.accepted > 1000 && t.refused > 1000, JSON.stringify(t));
    });
  }
});
