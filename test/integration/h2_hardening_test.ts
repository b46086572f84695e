// Hostile HTTP/2 clients, frames written by hand (h2spec-style): rapid reset (CVE-2023-44487), stream and header
// limits, CONTINUATION and PING floods, malformed frames and TLS records. The proxy must answer the next client.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";
import { freePort, httpBackend } from "./http_helpers.ts";
import type { Backend } from "./http_helpers.ts";
import { h2Client, h2Request, startTlsProxy, tlsOpen } from "./tls_helpers.ts";
import type { TlsProxy } from "./tls_helpers.ts";
import { h2Stats } from "../../src/proxy/h2/session.ts";

// ---- frames (RFC 9113 §4.1) and a minimal HPACK encoder (RFC 7541 §6.2.2, literals without Huffman) ----

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 };
const F = { END_STREAM: 1, ACK: 1, END_HEADERS: 4 };

function frame(type: number, flags: number, stream: number, payload: Buffer | number[] = []): Buffer {
  const p = Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(p.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, p]);
}

function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

function hpack(headers: [string, string][]): Buffer {
  const out: number[] = [];
  for (const [n, v] of headers) {
    out.push(0x00, ...hpackInt(n.length, 7, 0), ...Buffer.from(n), ...hpackInt(v.length, 7, 0), ...Buffer.from(v));
  }
  return Buffer.from(out);
}

const GET = (path = "/") => hpack([[":method", "GET"], [":scheme", "https"], [":authority", "h.test"], [":path", path]]);
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

interface Outcome {
  frames: { type: number; flags: number; stream: number; payload: Buffer }[];
  closed: boolean;
  goaway?: number;
}

/** Opens an h2 connection, sends the preface, SETTINGS and `data`, collects frames until close or ms. */
async function exchange(port: number, data: Buffer[], ms = 1500): Promise<Outcome> {
  const s: TLSSocket = await tlsOpen(port, { ALPNProtocols: ["h2"], servername: "h.test" });
  assert.equal(s.alpnProtocol, "h2");
  return await new Promise((resolve) => {
    const out: Outcome = { frames: [], closed: false };
    let buf = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, ms);
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const f = { type: buf[3], flags: buf[4], stream: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + len) };
        if (f.type === T.GOAWAY) out.goaway = f.payload.readUInt32BE(4);
        out.frames.push(f);
        buf = buf.subarray(9 + len);
      }
    });
    s.on("error", () => {});
    s.on("close", () => {
      out.closed = true;
      finish();
    });
    s.write(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0), frame(T.SETTINGS, F.ACK, 0)]));
    for (const d of data) if (!s.destroyed) s.write(d);
  });
}

const rstCodes = (o: Outcome) => o.frames.filter((f) => f.type === T.RST_STREAM).map((f) => f.payload.readUInt32BE(0));

describe("HTTP/2 hardening", () => {
  let b: Backend;
  let p: TlsProxy;
  let port: number;
  before(async () => {
    b = await httpBackend("b");
    port = await freePort();
    const ca = makeCa();
    const dir = tempDir();
    const pem = makeLeaf(ca, join(dir, "h.pem"), { names: ["h.test"] });
    p = await startTlsProxy(`
global: { state_dir: ${dir}/state }
frontends:
  web:
    bind: { address: "127.0.0.1:${port}", tls: { crt: ${pem} } }
    limits: { h2_streams: 100, header_bytes: 16k }
    default_backend: b
backends:
  b: { servers: { b1: { address: 127.0.0.1, port: ${b.port} } } }
`);
  });
  after(async () => {
    await p.stop();
    await b.close();
  });

  /** After every attack: a well-behaved client is served. */
  async function stillServes(): Promise<void> {
    const c = h2Client(port, { servername: "h.test" });
    try {
      const r = await h2Request(c, { ":path": "/ok", ":authority": "h.test" });
      assert.equal(r.status, 200);
      assert.equal(r.body, "b /ok");
    } finally {
      c.close();
    }
  }

  it("a well-formed hand-written request is answered", async () => {
    const o = await exchange(port, [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, GET("/hand"))]);
    const h = o.frames.find((f) => f.type === T.HEADERS && f.stream === 1);
    assert.ok(h, JSON.stringify(o.frames.map((f) => f.type)));
    assert.ok(o.frames.some((f) => f.type === T.DATA && f.stream === 1 && f.payload.toString() === "b /hand"));
  });

  it("rapid reset (CVE-2023-44487): 10,000 HEADERS + RST_STREAM end in GOAWAY, and the servers see a fraction", async (t) => {
    const before = b.requests;
    const parts: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) {
      const id = 1 + 2 * i;
      parts.push(frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, id, GET(`/r${i}`)), frame(T.RST_STREAM, 0, id, u32(8)));
    }
    const o = await exchange(port, [Buffer.concat(parts)], 3000);
    assert.ok(o.goaway !== undefined || o.closed, "the connection was not ended");
    if (o.goaway !== undefined) assert.equal(o.goaway, 0xb, "GOAWAY ENHANCE_YOUR_CALM");
    const seen = b.requests - before;
    t.diagnostic(`rapid reset: ${seen} of 10000 requests reached the server; GOAWAY code ${o.goaway}`);
    assert.ok(seen < 1000, `${seen} requests reached the server`);
    await stillServes();
  });

  it("streams over SETTINGS_MAX_CONCURRENT_STREAMS are refused (REFUSED_STREAM or PROTOCOL_ERROR)", async () => {
    const parts: Buffer[] = [];
    // No END_STREAM: every stream stays open waiting for its body.
    for (let i = 0; i < 150; i++) parts.push(frame(T.HEADERS, F.END_HEADERS, 1 + 2 * i, GET(`/open${i}`)));
    const o = await exchange(port, [Buffer.concat(parts)], 1500);
    const refused = rstCodes(o).filter((c) => c === 7 || c === 1).length;
    assert.ok(refused >= 50 || o.goaway !== undefined, `refused ${refused}, goaway ${o.goaway}`);
    await stillServes();
  });

  it("a header list over header_bytes is refused; a CONTINUATION flood ends the connection", async () => {
    const big = hpack([[":method", "GET"], [":scheme", "https"], [":authority", "h.test"], [":path", "/"], ["x-big", "a".repeat(12_000)], ["x-big2", "b".repeat(12_000)]]);
    const o = await exchange(port, [frame(T.HEADERS, F.END_STREAM, 1, big.subarray(0, 16_000)), frame(T.CONTINUATION, F.END_HEADERS, 1, big.subarray(16_000))]);
    const answered = o.frames.find((f) => f.type === T.HEADERS && f.stream === 1);
    assert.ok(rstCodes(o).length > 0 || o.goaway !== undefined || (answered && /431|400/.test(answered.payload.toString("latin1"))) || o.closed, "oversized header list accepted");
    const flood: Buffer[] = [frame(T.HEADERS, 0, 1, GET("/c"))];
    for (let i = 0; i < 20_000; i++) flood.push(frame(T.CONTINUATION, 0, 1, hpack([["x-c", "v"]])));
    const c = await exchange(port, [Buffer.concat(flood)], 3000);
    assert.ok(c.goaway !== undefined || c.closed, "CONTINUATION flood not stopped");
    await stillServes();
  });

  it("malformed frames get GOAWAY or RST_STREAM, never a crash", async () => {
    const cases: [string, Buffer[]][] = [
      ["DATA on stream 0", [frame(T.DATA, 0, 0, [1, 2, 3])]],
      ["SETTINGS of 5 bytes", [frame(T.SETTINGS, 0, 0, [0, 3, 0, 0, 0])]],
      ["SETTINGS_INITIAL_WINDOW_SIZE too large", [frame(T.SETTINGS, 0, 0, [0, 4, 0x80, 0, 0, 0])]],
      ["SETTINGS_MAX_FRAME_SIZE too small", [frame(T.SETTINGS, 0, 0, [0, 5, 0, 0, 0, 1])]],
      ["WINDOW_UPDATE of 0", [frame(T.WINDOW_UPDATE, 0, 0, u32(0))]],
      ["PING of 7 bytes", [frame(T.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7])]],
      ["PING on a stream", [frame(T.PING, 0, 3, [1, 2, 3, 4, 5, 6, 7, 8])]],
      ["HEADERS on an even stream", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 2, GET())]],
      ["HPACK index out of range", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, [0xff, 0xff, 0xff, 0x7f])]],
      ["HPACK cut in the middle of a literal", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, GET().subarray(0, 20))]],
      ["frame larger than SETTINGS_MAX_FRAME_SIZE", [frame(T.DATA, 0, 1, Buffer.alloc(20_000))]],
      ["RST_STREAM on an idle stream", [frame(T.RST_STREAM, 0, 5, u32(8))]],
      // RFC 9113 §5.3.2: priority signals may be ignored.
      ["stream depends on itself (optional)", [frame(T.PRIORITY, 0, 1, [0, 0, 0, 1, 16])]],
      ["CONTINUATION without HEADERS", [frame(T.CONTINUATION, F.END_HEADERS, 1, GET())]],
      ["DATA after END_STREAM", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, GET("/slow?ms=300")), frame(T.DATA, 0, 1, [1])]],
      ["request without :path", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, hpack([[":method", "GET"], [":scheme", "https"]]))]],
      ["connection-specific field", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, hpack([[":method", "GET"], [":scheme", "https"], [":path", "/"], ["connection", "close"]]))]],
      ["upper-case field name", [frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, hpack([[":method", "GET"], [":scheme", "https"], [":path", "/"], ["X-Up", "1"]]))]],
      ["content-length and a shorter body", [frame(T.HEADERS, F.END_HEADERS, 1, hpack([[":method", "POST"], [":scheme", "https"], [":path", "/echo"], ["content-length", "10"]])), frame(T.DATA, F.END_STREAM, 1, [1, 2])]],
      ["unknown frame type (ignored)", [frame(0xfa, 0, 0, [1, 2, 3]), frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, GET("/after-unknown"))]],
      ["GOAWAY from the client then a stream", [frame(T.GOAWAY, 0, 0, [...u32(0), ...u32(0)]), frame(T.HEADERS, F.END_STREAM | F.END_HEADERS, 1, GET())]],
    ];
    for (const [name, data] of cases) {
      const o = await exchange(port, data, 700);
      const ended = o.goaway !== undefined || o.closed || rstCodes(o).length > 0 || o.frames.some((f) => f.type === T.HEADERS);
      assert.ok(ended || name.includes("ignored") || name.includes("(optional)") || name.includes("idle") || name.includes("GOAWAY from"), `${name}: no reaction (${o.frames.map((f) => f.type).join(",")})`);
      if (name.includes("ignored")) assert.ok(o.frames.some((f) => f.type === T.DATA && f.payload.toString() === "b /after-unknown"), name);
    }
    await stillServes();
  });

  it("PING and SETTINGS floods end the connection without growing memory without bound", async () => {
    const pings: Buffer[] = [];
    for (let i = 0; i < 50_000; i++) pings.push(frame(T.PING, 0, 0, [0, 0, 0, 0, ...u32(i)]));
    const o = await exchange(port, [Buffer.concat(pings)], 3000);
    assert.ok(o.frames.length > 0);
    const settings: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) settings.push(frame(T.SETTINGS, 0, 0, [0, 3, 0, 0, 0, 100]));
    await exchange(port, [Buffer.concat(settings)], 3000);
    await stillServes();
  });

  it("malformed TLS records: garbage, a cut ClientHello, a huge record length, a slow client", async () => {
    const rawSend = (data: Buffer, ms = 500) =>
      new Promise<void>((resolve) => {
        const s = netConnect({ port, host: "127.0.0.1" }, () => s.write(data));
        s.on("error", () => {});
        s.on("close", () => resolve());
        setTimeout(() => (s.destroy(), resolve()), ms);
      });
    await rawSend(Buffer.from([22, 3, 1, 0xff, 0xff, 1, 0, 0]));
    await rawSend(Buffer.from([22, 3, 1, 0, 50, 1, 0, 0, 46, 3, 3]));
    await rawSend(Buffer.alloc(4096, 0xab));
    await rawSend(Buffer.from([23, 3, 3, 0x40, 0x01, ...Buffer.alloc(100)]));
    for (let i = 0; i < 200; i++) await rawSend(Buffer.from(Array.from({ length: 64 }, (_, k) => (i * 31 + k * 7) & 255)), 50);
    const st = p.status().tls!;
    assert.ok(Object.values(st.failures).reduce((a, n) => a + n, 0) >= 4, JSON.stringify(st.failures));
    await stillServes();
    assert.ok(h2Stats.sessions > 10);
  });
});
