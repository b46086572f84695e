// PROXY protocol v1/v2: round trips, partial input, malformed headers.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeProxyHeader, parseProxyHeader } from "../../src/proxy/proxy_protocol.ts";

const a4 = { srcAddress: "192.0.2.10", srcPort: 40000, dstAddress: "198.51.100.1", dstPort: 443 };
const a6 = { srcAddress: "2001:db8:0:0:0:0:0:1", srcPort: 1, dstAddress: "2001:db8:0:0:0:0:0:2", dstPort: 65535 };

describe("PROXY protocol", () => {
  it("v1 TCP4 encodes as text and parses back", () => {
    const h = encodeProxyHeader("v1", a4);
    assert.equal(h.toString(), "PROXY TCP4 192.0.2.10 198.51.100.1 40000 443\r\n");
    assert.deepEqual(parseProxyHeader(Buffer.concat([h, Buffer.from("GET /")])), { done: true, consumed: h.length, addresses: a4 });
  });
  it("v1 maps ::ffff: addresses to TCP4", () => {
    const h = encodeProxyHeader("v1", { ...a4, srcAddress: "::ffff:192.0.2.10", dstAddress: "::ffff:198.51.100.1" });
    assert.match(h.toString(), /^PROXY TCP4 192\.0\.2\.10 /);
  });
  for (const [name, a] of [["v4", a4], ["v6", a6]] as const) {
    it(`v2 ${name} round trip, fed byte by byte`, () => {
      const h = encodeProxyHeader("v2", a);
      for (let i = 0; i < h.length; i++) assert.deepEqual(parseProxyHeader(h.subarray(0, i)), { done: false });
      const out = parseProxyHeader(Buffer.concat([h, Buffer.from("x")]));
      assert.ok(out.done);
      assert.equal(out.consumed, h.length);
      assert.equal(out.addresses?.srcPort, a.srcPort);
      assert.equal(out.addresses?.dstPort, a.dstPort);
    });
  }
  it("v1 UNKNOWN and v2 LOCAL carry no addresses", () => {
    assert.deepEqual(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n")), { done: true, consumed: 15 });
    const local = encodeProxyHeader("v2", a4);
    local[12] = 0x20;
    assert.deepEqual(parseProxyHeader(local), { done: true, consumed: local.length });
  });
  for (const bad of ["GET / HTTP/1.1\r\n", "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "PROXY TCP4 1.2.3 1.2.3.4 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1 99999\r\n", "PROXY TCP4 " + "1".repeat(120)]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 30))}`, () => {
      assert.throws(() => parseProxyHeader(Buffer.from(bad)), Error);
    });
  }
});
