// Loading haproxy-style PEM bundles: certificate, chain and key in one file or the key beside it; every refusal names the file.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadCertificate } from "../../src/tls/certificate.ts";
import { CertificateCache, certificateFiles } from "../../src/tls/cert_store.ts";
import { splitPem } from "../../src/tls/pem.ts";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";

const ca = makeCa();
const dir = tempDir();

describe("PEM files", () => {
  it("splits blocks, skips text around them, refuses unterminated blocks and junk inside", () => {
    const text = `Bag Attributes\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\nnote\n-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n`;
    assert.deepEqual(splitPem(text).map((b) => [b.label, b.line]), [["CERTIFICATE", 2], ["PRIVATE KEY", 6]]);
    assert.throws(() => splitPem("-----BEGIN CERTIFICATE-----\nAAAA\n"), /line 1: "BEGIN CERTIFICATE" has no END line/);
    assert.throws(() => splitPem("-----BEGIN CERTIFICATE-----\nA A!\n-----END CERTIFICATE-----\n"), /line 2: not base64/);
    assert.throws(() => splitPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n"), /closes "BEGIN CERTIFICATE"/);
  });

  it("loads certificate + chain + key, names from subjectAltName, key type, dates", () => {
    const file = makeLeaf(ca, join(dir, "ok.pem"), { names: ["a.test", "*.b.test"], chain: true });
    const c = loadCertificate(file);
    assert.deepEqual(c.names, ["a.test", "*.b.test"]);
    assert.equal(c.keyType, "ec");
    assert.equal((c.certPem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    assert.ok(c.notAfter.getTime() > Date.now());
  });

  it("takes the key from FILE.key beside the certificate (haproxy's rule)", () => {
    const file = makeLeaf(ca, join(dir, "beside.pem"), { names: ["k.test"], keyType: "rsa", keyBeside: true });
    assert.equal(loadCertificate(file).keyType, "rsa");
  });

  it("refuses with the file name: no key, a key of another certificate, garbage, missing file, encrypted key", () => {
    const a = makeLeaf(ca, join(dir, "a.pem"), { names: ["a.test"] });
    const b = makeLeaf(ca, join(dir, "b.pem"), { names: ["b.test"] });
    const cert = (f: string) => readFileSync(f, "utf8").split("-----BEGIN PRIVATE KEY")[0];
    const key = (f: string) => "-----BEGIN PRIVATE KEY" + readFileSync(f, "utf8").split("-----BEGIN PRIVATE KEY")[1];
    const cases: [string, string, RegExp][] = [
      ["nokey.pem", cert(a), /nokey\.pem": no private key in it or in a \.key file beside it/],
      ["mismatch.pem", cert(a) + key(b), /mismatch\.pem": the private key does not belong to the certificate/],
      ["garbage.pem", "hello\n", /garbage\.pem": no PEM block in it/],
      ["cut.pem", cert(a).slice(0, 200), /cut\.pem": not a valid PEM file: line 1: "BEGIN CERTIFICATE" has no END line/],
      ["enc.pem", cert(a) + "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", /enc\.pem": its private key is encrypted/],
      ["badcert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + key(a), /badcert\.pem": the certificate on line 1 cannot be parsed/],
    ];
    for (const [name, text, re] of cases) {
      writeFileSync(join(dir, name), text);
      assert.throws(() => loadCertificate(join(dir, name)), (err: Error & { code?: string }) => re.test(err.message) && err.code === "E_CERT", name);
    }
    assert.throws(() => loadCertificate(join(dir, "absent.pem")), /absent\.pem": cannot read it: no such file/);
  });

  it("reads a directory in name order without .key/.ocsp side files, and re-reads a file only when it changed", () => {
    const d = join(dir, "crt.d");
    mkdirSync(d);
    makeLeaf(ca, join(d, "20-b.pem"), { names: ["b.test"] });
    makeLeaf(ca, join(d, "10-a.pem"), { names: ["a.test"], keyBeside: true });
    writeFileSync(join(d, "10-a.pem.ocsp"), "x");
    assert.deepEqual(certificateFiles(d).map((f) => f.slice(d.length + 1)), ["10-a.pem", "20-b.pem"]);
    const cache = new CertificateCache();
    const first = cache.loadAll([d]);
    assert.equal(first.certs.length, 2);
    assert.equal(cache.load(join(d, "20-b.pem")), first.certs[1]);
    makeLeaf(ca, join(d, "20-b.pem"), { names: ["b2.test"] });
    const again = cache.load(join(d, "20-b.pem"));
    assert.ok("names" in again && again.names[0] === "b2.test");
    assert.match(cache.loadAll([join(dir, "nothing")]).errors[0].message, /nothing": no such file or directory/);
  });
});
