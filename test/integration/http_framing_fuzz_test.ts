// Generated and mutated messages through the built binary, judged by the RFC 9112 reference parser: no desync either way.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TandemProcess } from "../helpers/binary.ts";
import { applyMutation, fuzzRun, generateRequest, generateResponse, lcg, mutate, randomMutation, trickle } from "../helpers/http_fuzz.ts";
import type { Generated } from "../helpers/http_fuzz.ts";
import { accepting, freePort, listen } from "../helpers/net.ts";
import { parseMessages } from "../helpers/rfc9112.ts";
import type { RefMessage } from "../helpers/rfc9112.ts";

/** A message as a recording server received it. */
interface Received {
  seq: number;
  /** The last X-Forwarded-For: the client address, which names the client session. */
  client: string;
  message: RefMessage;
}

/**
 * A server that reads every connection with the strict reference parser, answers each complete
 * request with its sequence number (X-Seq) and records it; bytes that do not parse are recorded as
 * violations. `respond` (when set) answers instead, with bytes of the test's choosing, then closes.
 */
class RecordingServer {
  readonly received: Received[] = [];
  readonly violations: string[] = [];
  readonly server: Server;
  respond: ((target: string) => Buffer) | undefined;
  #seq = 0;
  #sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((s) => {
      this.#sockets.add(s);
      let bytes = Buffer.alloc(0);
      let answered = 0;
      const judge = (closed: boolean) => {
        const r = parseMessages(bytes, { kind: "request", closed });
        for (const m of r.messages.slice(answered)) {
          answered++;
          if (this.respond) {
            s.end(this.respond(m.target));
            continue;
          }
          const seq = ++this.#seq;
          const xff = m.fields.filter((f) => f.name.toLowerCase() === "x-forwarded-for").pop()?.value ?? "";
          this.received.push({ seq, client: xff, message: m });
          s.write(`HTTP/1.1 200 OK\r\nX-Seq: ${seq}\r\nContent-Length: 0\r\n\r\n`);
        }
        if (r.end === "error" || r.end === "switched") {
          this.violations.push(`the server received bytes that do not parse (${r.error}): ${JSON.stringify(bytes.subarray(r.at).toString("latin1"))}`);
          s.destroy();
        }
      };
      s.on("data", (d: Buffer) => {
        bytes = Buffer.concat([bytes, d]);
        judge(false);
      });
      // A message cut short is what an aborted exchange leaves (the proxy closed); a broken one is not.
      s.on("end", () => judge(true));
      s.on("error", () => {});
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Sends bytes from a local address, half-closes, and returns what came back until the proxy closed (or ms passed). */
function exchange(port: number, from: string, bytes: Buffer, rnd: () => number, ms = 3000): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1", localAddress: from });
    const got: Buffer[] = [];
    const t = setTimeout(() => s.destroy(), ms);
    s.on("data", (d: Buffer) => got.push(d));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve(Buffer.concat(got));
    });
    s.on("connect", async () => {
      await trickle(s, bytes, rnd);
      if (!s.destroyed) s.end();
    });
  });
}

/** The random numbers of session k: each session replays alike whatever the order the lanes ran in. */
const sessionRnd = (seed: number, k: number) => lcg((seed + Math.imul(k, 2654435761)) >>> 0);

/** The client address of session k: 127.x.y.z, unique per session (all of 127/8 is loopback). */
const address = (k: number) => `127.${1 + ((k >> 14) & 127)}.${(k >> 7) & 127}.${1 + (k & 127)}`;

/** One generated request, mutated by region (every byte value can land anywhere), sometimes by junk, sometimes with a second one behind. */
function clientBytes(rnd: () => number): Buffer {
  const g = generateRequest(rnd);
  let b = g.bytes;
  const how = rnd();
  if (how < 0.55) for (let k = 1 + Math.floor(rnd() * 2); k > 0; k--) b = applyMutation(b, randomMutation({ bytes: b, regions: g.regions.filter(([, e]) => e <= b.length) } as Generated, rnd));
  else if (how < 0.75) b = mutate(b, rnd);
  if (rnd() < 0.25) b = Buffer.concat([b, generateRequest(rnd).bytes]);
  return b;
}

/** Same request? method, target (path and query, origin-form as forwarded), framing and payload. */
function sameRequest(sent: RefMessage, got: RefMessage): string | undefined {
  const target = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(sent.target) ? sent.target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "") || "/" : sent.target;
  if (sent.method !== got.method) return `method ${got.method}, sent ${sent.method}`;
  if (target !== got.target) return `target ${got.target}, sent ${sent.target}`;
  if (sent.framing !== got.framing) return `framing ${got.framing}, sent ${sent.framing}`;
  if (!sent.body.equals(got.body)) return `payload ${JSON.stringify(got.body.toString("latin1"))}, sent ${JSON.stringify(sent.body.toString("latin1"))}`;
  return undefined;
}

describe("generated and mutated messages through dist/tandem, judged by the RFC 9112 reference parser", () => {
  const { seed, ms } = fuzzRun(8000);
  const server = new RecordingServer();
  const dir = mkdtempSync(join(tmpdir(), "tandem-framing-fuzz-"));
  let port = 0;
  let tandem: TandemProcess;

  before(async () => {
    const bport = await freePort();
    await listen(server.server, bport);
    port = await freePort();
    writeFileSync(join(dir, "t.yaml"), `global: { state_dir: ${dir}/state, grace_period: 1s }
defaults:
  mode: http
  timeout: { connect: 1s, client: 1s, server: 2s, http_request: 1s }
frontends:
  web: { bind: 127.0.0.1:${port}, forwardfor: true, default_backend: b }
backends:
  b: { retries: 0, servers: { s1: { address: 127.0.0.1, port: ${bport} } } }
`);
    tandem = new TandemProcess(["--config", join(dir, "t.yaml"), "--role", "master"]);
    await accepting(port);
  });

  after(async () => {
    await tandem.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`requests: what reaches the server is, per client, the messages the client sent, one by one, framed alike (seed ${seed})`, async () => {
    const deadline = Date.now() + (ms * 3) / 5;
    const sessions: { from: string; sent: Buffer; back: Buffer }[] = [];
    let k = 0;
    const lane = async () => {
      while (Date.now() < deadline && tandem.child.exitCode === null) {
        const rnd = sessionRnd(seed, ++k);
        const from = address(k);
        const sent = clientBytes(rnd);
        sessions.push({ from, sent, back: await exchange(port, from, sent, rnd) });
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await new Promise((r) => setTimeout(r, 100)); // the last server reads
    const violations = [...server.violations];
    const byClient = Map.groupBy(server.received, (r) => r.client);
    let forwarded = 0;
    for (const s of sessions) {
      const show = JSON.stringify(s.sent.toString("latin1"));
      const sent = parseMessages(s.sent, { kind: "request", lenient: true });
      const got = byClient.get(s.from) ?? [];
      forwarded += got.length;
      if (got.length > sent.messages.length) violations.push(`${show}: the server got ${got.length} request(s), the client sent ${sent.messages.length}`);
      got.forEach((g, i) => {
        const diff = i < sent.messages.length ? sameRequest(sent.messages[i], g.message) : "not sent";
        if (diff) violations.push(`${show}: request ${i + 1} reached the server with ${diff}`);
        if (!s.back.toString("latin1").includes(`\r\nX-Seq: ${g.seq}\r\n`)) violations.push(`${show}: the response to request ${i + 1} (X-Seq ${g.seq}) did not reach the client: ${JSON.stringify(s.back.toString("latin1"))}`);
      });
      // What the client got back parses too: one response per request answered, nothing else.
      const back = parseMessages(s.back, { kind: "response", closed: true });
      if (back.end === "error") violations.push(`${show}: the client got bytes that do not parse (${back.error}): ${JSON.stringify(s.back.toString("latin1"))}`);
    }
    process.stdout.write(`# ${sessions.length} client sessions, ${forwarded} requests reached the server\n`);
    assert.equal(tandem.child.exitCode, null, tandem.stderr.slice(-2000));
    assert.deepEqual(violations.slice(0, 10), [], `${violations.length} violations`);
    assert.ok(sessions.length > 300 && forwarded > 100, `${sessions.length} sessions, ${forwarded} forwarded`);
  });

  it(`responses: what reaches the client is one response per request, the server's own when it parses, framed alike (seed ${seed})`, async () => {
    const deadline = Date.now() + (ms * 2) / 5;
    const responses: Buffer[] = [];
    server.respond = (target) => responses[Number(target.split("/")[2])] ?? Buffer.from("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    const violations: string[] = [];
    let relayed = 0;
    let k = 0;
    const lane = async () => {
      while (Date.now() < deadline && tandem.child.exitCode === null) {
        const n = k++;
        const rnd = sessionRnd(seed + 1, n);
        const g = generateResponse(rnd);
        let b = g.bytes;
        if (rnd() < 0.6) b = applyMutation(b, randomMutation(g, rnd));
        else if (rnd() < 0.5) b = mutate(b, rnd);
        responses[n] = b;
        const back = await exchange(port, address(1_000_000 + n), Buffer.from(`GET /r/${n} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), rnd);
        const show = JSON.stringify(b.toString("latin1"));
        const sent = parseMessages(b, { kind: "response", lenient: true, closed: true }).messages.find((m) => m.status >= 200);
        const got = parseMessages(back, { kind: "response", closed: true });
        const finals = got.messages.filter((m) => m.status >= 200);
        if (got.end === "error" || finals.length > 1) {
          violations.push(`${show}: the client got ${JSON.stringify(back.toString("latin1"))}: ${finals.length} final response(s), ${got.end} ${got.error ?? ""}`);
          continue;
        }
        const f = finals[0];
        if (!f) continue; // cut short: the server's response broke off or was cut by the proxy
        if (f.status >= 502 && f.status <= 504 && sent?.status !== f.status) continue; // the proxy's own answer
        relayed++;
        if (!sent) violations.push(`${show}: relayed as ${JSON.stringify(back.toString("latin1"))} though it does not parse`);
        else if (sent.status !== f.status || !sent.body.equals(f.body) || sent.framing !== f.framing) {
          violations.push(`${show}: relayed as ${JSON.stringify(back.toString("latin1"))}: status ${f.status}/${sent.status}, framing ${f.framing}/${sent.framing}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    server.respond = undefined;
    process.stdout.write(`# ${k} server responses, ${relayed} relayed\n`);
    assert.equal(tandem.child.exitCode, null, tandem.stderr.slice(-2000));
    assert.deepEqual(violations.slice(0, 10), [], `${violations.length} violations`);
    assert.ok(k > 200 && relayed > 50, `${k} responses, ${relayed} relayed`);
  });
});
