// The pair link's protocol pieces without sockets: framing, the handshake's steps, records and
// stick batches, including what a hostile or broken peer may send.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { FrameError, FrameReader, frameHeader } from "../../src/pair/frame.ts";
import { freshSecrets, type HandshakeConfig, type HandshakeStep, startHandshake, stepHandshake, stretchKey } from "../../src/pair/handshake.ts";
import { RecordError, RecordLayer } from "../../src/pair/record.ts";
import { decodeAck, decodeSticks, encodeAck, encodeSticks, MAX_BATCH } from "../../src/pair/stick_codec.ts";
import { decodeMessage, encodeJson, MessageError, MSG } from "../../src/pair/messages.ts";

const frame = (p: Buffer) => Buffer.concat([frameHeader(p.length), p]);

describe("FrameReader", () => {
  it("cuts frames across and within chunks, one at a time", () => {
    const r = new FrameReader(100);
    const bytes = Buffer.concat([frame(Buffer.from("abc")), frame(Buffer.from("")), frame(Buffer.from("defgh"))]);
    const got: string[] = [];
    for (const b of bytes) {
      r.push(Buffer.from([b]));
      for (let p = r.next(); p; p = r.next()) got.push(p.toString());
    }
    assert.deepEqual(got, ["abc", "", "defgh"]);
    assert.equal(r.buffered, 0);
  });

  it("refuses a frame longer than its limit, which may grow between frames", () => {
    const r = new FrameReader(4);
    r.push(Buffer.concat([frame(Buffer.from("abcd")), frame(Buffer.from("abcdef"))]));
    assert.equal(r.next()?.toString(), "abcd");
    assert.throws(() => r.next(), FrameError);
    const r2 = new FrameReader(4);
    r2.push(Buffer.concat([frame(Buffer.from("ab")), frame(Buffer.from("abcdef"))]));
    r2.next();
    r2.max = 10;
    assert.equal(r2.next()?.toString(), "abcdef");
  });
});

/** Runs a handshake between two configs; returns each side's established keys or refusal. */
function handshake(client: HandshakeConfig, server: HandshakeConfig, tamper?: (p: Buffer, i: number) => Buffer) {
  let cs = startHandshake(client);
  let ss = startHandshake(server);
  const result: { client?: HandshakeStep["actions"][number]; server?: HandshakeStep["actions"][number] } = {};
  let toServer = cs.actions.filter((a) => a.type === "send").map((a) => (a as { payload: Buffer }).payload);
  let n = 0;
  for (let round = 0; round < 4 && toServer.length; round++) {
    const toClient: Buffer[] = [];
    for (const p of toServer) {
      ss = stepHandshake(server, ss.state, tamper ? tamper(p, n++) : p);
      for (const a of ss.actions) {
        if (a.type === "send") toClient.push(a.payload);
        else result.server = a;
        if (a.type === "refuse" && a.tell) toClient.push(a.tell);
      }
    }
    toServer = [];
    for (const p of toClient) {
      cs = stepHandshake(client, cs.state, p);
      for (const a of cs.actions) {
        if (a.type === "send") toServer.push(a.payload);
        else result.client = a;
      }
    }
  }
  return result;
}

const side = (s: "client" | "server", key: string, role: "master" | "backup" = s === "client" ? "master" : "backup", peerRole: "master" | "backup" = s === "client" ? "backup" : "master"): HandshakeConfig =>
  ({ side: s, role, peerRole, psk: stretchKey(key), ...freshSecrets() });

describe("handshake", () => {
  it("agrees on keys when both hold the key: one key per direction", () => {
    const r = handshake(side("client", "k-1234567890123456"), side("server", "k-1234567890123456"));
    assert.equal(r.client?.type, "established");
    assert.equal(r.server?.type, "established");
    const c = r.client as { keys: { send: Buffer; receive: Buffer } };
    const s = r.server as { keys: { send: Buffer; receive: Buffer } };
    assert.ok(c.keys.send.equals(s.keys.receive));
    assert.ok(c.keys.receive.equals(s.keys.send));
    assert.ok(!c.keys.send.equals(c.keys.receive));
  });

  it("a wrong key is refused by the listening side, which proves nothing first; the dialer hears why", () => {
    const r = handshake(side("client", "right-key-right-key"), side("server", "wrong-key-wrong-key"));
    assert.equal(r.server?.type, "refuse");
    assert.equal((r.server as { code: string }).code, "key");
    assert.match((r.client as { reason: string }).reason, /peer refused our key/);
  });

  it("refuses garbage, another version, the wrong role and a bad key share with reasons", () => {
    const server = side("server", "some-key-0123456789");
    const bad = (p: Buffer) => stepHandshake(server, startHandshake(server).state, p).actions[0] as { type: string; reason: string };
    assert.match(bad(Buffer.from("GET / HTTP/1.1\r\n\r\n")).reason, /not a tandem pair hello/);
    const hello = startHandshake(side("client", "some-key-0123456789")).actions[0] as { payload: Buffer };
    const v2 = Buffer.from(hello.payload);
    v2[8] = 2;
    assert.match(bad(v2).reason, /pair protocol 2/);
    const role = Buffer.from(hello.payload);
    role[9] = 1;
    assert.match(bad(role).reason, /runs as backup, expected master/);
    const zero = Buffer.from(hello.payload);
    zero.fill(0, 42);
    assert.match(bad(zero).reason, /key share/);
  });

  it("a tampered hello fails the key check (the hellos are part of the keys)", () => {
    const r = handshake(side("client", "k-1234567890123456"), side("server", "k-1234567890123456"), (p, i) => {
      if (i !== 0) return p;
      const q = Buffer.from(p);
      q[20] ^= 1; // the client's nonce
      return q;
    });
    assert.equal(r.server?.type, "refuse");
  });
});

describe("records", () => {
  const keys = () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    return [new RecordLayer({ send: a, receive: b }), new RecordLayer({ send: b, receive: a })];
  };

  it("seal and open in order", () => {
    const [x, y] = keys();
    for (const m of ["one", "two", ""]) assert.equal(y.open(x.seal(Buffer.from(m))).toString(), m);
  });

  it("an altered, replayed or reordered record does not open", () => {
    const [x, y] = keys();
    const r1 = x.seal(Buffer.from("first"));
    const r2 = x.seal(Buffer.from("second"));
    const altered = Buffer.from(r1);
    altered[0] ^= 1;
    assert.throws(() => y.open(altered), RecordError);
    const [x2, y2] = keys();
    const a = x2.seal(Buffer.from("a"));
    const b = x2.seal(Buffer.from("b"));
    assert.throws(() => y2.open(b), RecordError, "out of order");
    void a;
    void r2;
    const [x3, y3] = keys();
    const once = x3.seal(Buffer.from("x"));
    y3.open(once);
    assert.throws(() => y3.open(once), RecordError, "replayed");
  });
});

describe("stick batches", () => {
  it("round-trip with servers by name and expiry", () => {
    const entries = [{ key: "10.0.0.1", server: "app1", expiresIn: 1000 }, { key: "2001:db8::1", server: "app2", expiresIn: 0 }, { key: "10.0.0.3", server: "app1", expiresIn: 1_799_999 }];
    const b = decodeSticks(encodeSticks({ seq: 7, resync: true, table: "web", entries }));
    assert.deepEqual(b, { seq: 7, resync: true, table: "web", entries });
    assert.equal(decodeAck(encodeAck(7)), 7);
  });

  it("skips data types it does not know (a newer peer's counters)", () => {
    const body = encodeSticks({ seq: 1, resync: false, table: "t", entries: [{ key: "k", server: "s", expiresIn: 5 }] });
    // Declare a third type, http_req_rate (freq, 16 bytes), after server and expire, and append its value.
    const typesAt = 4 + 1 + 2 + 1;
    const patched = Buffer.concat([body.subarray(0, typesAt), Buffer.from([3]), body.subarray(typesAt + 1, typesAt + 5), Buffer.from([6, 4]), body.subarray(typesAt + 5), Buffer.alloc(16, 9)]);
    assert.deepEqual(decodeSticks(patched).entries, [{ key: "k", server: "s", expiresIn: 5 }]);
  });

  it("a full batch of the longest keys fits in a record", () => {
    const entries = Array.from({ length: MAX_BATCH }, (_, i) => ({ key: `${"x".repeat(250)}${i}`.slice(0, 255), server: "s", expiresIn: 1 }));
    assert.ok(encodeSticks({ seq: 1, resync: false, table: "t", entries }).length < 1 << 20);
  });

  it("malformed bodies fail with MessageError, never anything else", () => {
    const good = encodeSticks({ seq: 1, resync: false, table: "web", entries: [{ key: "10.0.0.1", server: "a", expiresIn: 1 }, { key: "10.0.0.2", server: "b", expiresIn: 2 }] });
    for (let cut = 0; cut < good.length; cut++) assert.throws(() => decodeSticks(good.subarray(0, cut)), MessageError);
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(1 + (i % 64));
      try {
        decodeSticks(junk);
      } catch (err) {
        assert.ok(err instanceof MessageError, String(err));
      }
    }
  });
});

describe("messages", () => {
  it("JSON messages are checked against their schema; unknown types are ignored", () => {
    assert.deepEqual(decodeMessage(encodeJson(MSG.resync, { phase: "end", entries: 3 })), { type: MSG.resync, value: { phase: "end", entries: 3 } });
    assert.throws(() => decodeMessage(Buffer.concat([Buffer.from([MSG.resync]), Buffer.from('{"phase":"later"}')])), /does not fit its schema: phase/);
    assert.throws(() => decodeMessage(Buffer.concat([Buffer.from([MSG.state]), Buffer.from("{oops")])), /not valid JSON/);
    assert.deepEqual(decodeMessage(Buffer.from([200, 1, 2])), { type: "unknown", code: 200 });
    assert.throws(() => decodeMessage(Buffer.alloc(0)), MessageError);
  });
});
