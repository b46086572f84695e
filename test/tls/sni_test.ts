// SNI selection and the ClientHello reader that picks between an ECDSA and an RSA certificate of one name.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCertificate } from "../../src/tls/certificate.ts";
import { SniSelector } from "../../src/tls/sni.ts";
import { helloFacts } from "../../src/tls/client_hello.ts";
import { dueWarnings, WARN_EVERY_MS } from "../../src/tls/expiry.ts";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";

const ca = makeCa();
const dir = tempDir();

describe("SniSelector", () => {
  const dflt = loadCertificate(makeLeaf(ca, join(dir, "d.pem"), { names: ["default.test"] }));
  const ec = loadCertificate(makeLeaf(ca, join(dir, "e.pem"), { names: ["a.test", "*.w.test"] }));
  const rsa = loadCertificate(makeLeaf(ca, join(dir, "r.pem"), { names: ["a.test"], keyType: "rsa" }));
  const s = new SniSelector([dflt, ec, rsa], {});

  it("exact names, wildcards one label deep, the first certificate as default", () => {
    assert.notEqual(s.select("a.test"), s.default);
    assert.equal(s.select("A.TEST"), s.select("a.test"));
    assert.equal(s.select("x.w.test"), s.select("a.test", true));
    assert.equal(s.select("x.y.w.test"), s.default);
    assert.equal(s.select("w.test"), s.default);
    assert.equal(s.select("other.test"), s.default);
    assert.deepEqual(s.defaultCerts, [dflt]);
  });

  it("an ECDSA and an RSA certificate of one name: by what the client takes", () => {
    assert.equal(s.mixed, true);
    assert.notEqual(s.select("a.test", true), s.select("a.test", false));
    assert.equal(new SniSelector([ec], {}).mixed, false);
    assert.equal(new SniSelector([], {}).default, undefined);
  });
});

/** A ClientHello record with the given cipher suites and signature schemes (no other extension). */
function hello(suites: number[], schemes?: number[]): Buffer {
  const ext: number[] = [];
  if (schemes) {
    const list = schemes.flatMap((x) => [x >> 8, x & 255]);
    ext.push(0, 13, 0, list.length + 2, 0, list.length, ...list);
  }
  const body = [3, 3, ...new Array(32).fill(7), 0, 0, suites.length * 2, ...suites.flatMap((x) => [x >> 8, x & 255]), 1, 0, ext.length >> 8, ext.length & 255, ...ext];
  const hs = [1, 0, body.length >> 8, body.length & 255, ...body];
  return Buffer.from([22, 3, 1, hs.length >> 8, hs.length & 255, ...hs]);
}

describe("helloFacts", () => {
  it("signature_algorithms decides; without it, an ECDHE-ECDSA suite does", () => {
    assert.deepEqual(helloFacts(hello([0x1301], [0x0804, 0x0403])), { complete: true, ecdsa: true });
    assert.deepEqual(helloFacts(hello([0xc02b], [0x0804, 0x0401])), { complete: true, ecdsa: false });
    assert.deepEqual(helloFacts(hello([0xc02f, 0xc02b])), { complete: true, ecdsa: true });
    assert.deepEqual(helloFacts(hello([0xc02f])), { complete: true, ecdsa: false });
  });

  it("cut short: not complete; not TLS or garbage: no answer, never a throw", () => {
    const h = hello([0x1301], [0x0403]);
    assert.equal(helloFacts(h.subarray(0, 20)).complete, false);
    assert.deepEqual(helloFacts(Buffer.from("GET / HTTP/1.1\r\n\r\n")), { complete: true, ecdsa: undefined });
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(h);
      junk[5 + (i % (junk.length - 5))] = (i * 37) & 255;
      helloFacts(junk);
      helloFacts(junk.subarray(0, i % junk.length));
    }
  });
});

describe("expiry warnings", () => {
  it("within 14 days, once a day per certificate; expired ones have days <= 0", () => {
    const cert = (days: number, fp: string) => ({ ...dflt(), notAfter: new Date(Date.UTC(2026, 0, 1) + days * 86_400_000), fingerprint: fp });
    const now = Date.UTC(2026, 0, 1);
    const last = new Map<string, number>();
    const certs = [cert(30, "a"), cert(10, "b"), cert(-2, "c")];
    assert.deepEqual(dueWarnings(certs, now, last).map((w) => [w.cert.fingerprint, w.days]), [["b", 10], ["c", -2]]);
    assert.deepEqual(dueWarnings(certs, now + 3_600_000, last), []);
    assert.equal(dueWarnings(certs, now + WARN_EVERY_MS, last).length, 2);
  });
});

function dflt() {
  return loadCertificate(join(dir, "d.pem"));
}
