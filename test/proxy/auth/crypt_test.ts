// crypt(3) SHA-512/SHA-256/MD5 against `openssl passwd` run here, and the specification's vectors.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { cryptScheme, cryptVerify, parseCryptHash } from "../../../src/proxy/auth/crypt.ts";

const openssl = (flag: string, salt: string, pw: string) => execFileSync("openssl", ["passwd", flag, "-salt", salt, pw], { encoding: "utf8" }).trim();

describe("crypt(3) hashes", () => {
  const cases: [string, string, string][] = [
    ["-6", "saltsalt", "pw1"],
    ["-6", "x", "a longer passphrase with spaces and ünïcödé"],
    ["-6", "0123456789abcdef", "sixteen-byte salt"],
    ["-5", "abcdefgh", "secret"],
    ["-5", "Zq.8/j", "p@ss:word"],
    ["-1", "abcdefgh", "secret"],
    ["-1", "ab", "a password longer than sixteen bytes"],
  ];
  for (const [flag, salt, pw] of cases) {
    it(`openssl passwd ${flag} -salt ${salt}: the right password matches, others do not`, () => {
      const hash = openssl(flag, salt, pw);
      assert.equal(cryptVerify(pw, hash), true, hash);
      assert.equal(cryptVerify(pw + "x", hash), false);
      assert.equal(cryptVerify(pw.toUpperCase() === pw ? pw + "!" : pw.toUpperCase(), hash), false);
    });
  }

  it("rounds= from the specification (U. Drepper, SHA-crypt test vectors)", () => {
    assert.ok(cryptVerify("Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"));
    assert.ok(cryptVerify("Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."));
    // rounds=10 is raised to the minimum of 1000 (and the hash says so)
    assert.ok(cryptVerify("the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"));
  });

  it("tells which schemes it cannot compute, and malformed hashes match nothing", () => {
    assert.deepEqual(cryptScheme("$y$j9T$abc$def"), { unsupported: "yescrypt ($y$)" });
    assert.deepEqual(cryptScheme("$2b$10$abcdefghijklmnopqrstuu"), { unsupported: "bcrypt ($2b$)" });
    assert.deepEqual(cryptScheme("abJnggxhB/yWI"), { unsupported: "traditional DES crypt" });
    assert.equal(parseCryptHash("$5$3VeorK1XxvgRseQ$VBkOPCY2enWZsas.C6X9Iif0FPHDknXXXXXXXXX"), undefined);
    assert.equal(cryptVerify("anything", "$5$3VeorK1XxvgRseQ$VBkOPCY2enWZsas.C6X9Iif0FPHDknXXXXXXXXX"), false);
  });
});
