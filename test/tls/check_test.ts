// The tls: and acme: config keys: what --check says (file names, dates, places), and what they resolve to.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigText } from "../../src/tandem_config.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";

const ca = makeCa();
const dir = tempDir();
const good = makeLeaf(ca, join(dir, "good.pem"), { names: ["a.test"] });
const expired = makeLeaf(ca, join(dir, "old.pem"), { names: ["old.test"], notBefore: new Date("2024-01-01T00:00:00Z"), notAfter: new Date("2024-03-01T00:00:00Z") });
writeFileSync(join(dir, "bad.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 !\n-----END CERTIFICATE-----\n");

const config = (bind: string, extra = "") => `global: { state_dir: ${dir}/state }
frontends:
  web:
    bind: ${bind}
    default_backend: b
backends:
  b: { servers: { s: { address: 127.0.0.1, port: 1 } } }
${extra}`;

const render = (text: string) => {
  const r = loadConfigText(text, "t.yaml");
  return { r, out: r.diagnostics.map((d) => formatDiagnostic("t.yaml", d)).join("\n") };
};

describe("tls: on binds", () => {
  it("resolves crt, alpn, versions and ciphers", () => {
    const { r } = render(config(`[{ address: "127.0.0.1:8443", tls: { crt: ${good}, min_version: TLSv1.3, ciphers: "ECDHE+AESGCM" } }, "127.0.0.1:8080"]`));
    assert.equal(r.diagnostics.length, 0);
    const t = r.config!.frontends[0].binds[0].tls!;
    assert.deepEqual([t.crt, t.alpn, t.minVersion, t.ciphers], [[good], ["h2", "http/1.1"], "TLSv1.3", "ECDHE+AESGCM"]);
    assert.equal(r.config!.frontends[0].binds[1].tls, undefined);
  });

  it("a bad PEM file is an error naming the file, at the crt entry", () => {
    const { r, out } = render(config(`{ address: "127.0.0.1:8443", tls: { crt: [${good}, ${join(dir, "bad.pem")}, ${join(dir, "missing.pem")}] } }`));
    assert.equal(r.config, undefined);
    assert.match(out, /t\.yaml:4:\d+: error: Cannot use certificate ".*bad\.pem": not a valid PEM file: line 2: not base64/);
    assert.match(out, /error: Cannot use certificate ".*missing\.pem": no such file or directory/);
  });

  it("an expired certificate is a warning with its date; the config is accepted", () => {
    const { r, out } = render(config(`{ address: "127.0.0.1:8443", tls: { crt: ${expired} } }`));
    assert.ok(r.config);
    assert.match(out, /warning: certificate ".*old\.pem" \(old\.test\) expired on 2024-03-01/);
  });

  it("needs certificates; acme names must exist; versions in order", () => {
    const { out } = render(config(`{ address: "127.0.0.1:8443", tls: { acme: [nope], min_version: TLSv1.3, max_version: TLSv1.2 } }`, `acme: { directory: "https://acme.test/dir", certificates: { site: { domains: [a.test] } } }`));
    assert.match(out, /unknown ACME certificate "nope"/);
    assert.match(out, /max_version TLSv1\.2 is below min_version TLSv1\.3/);
    const { out: none } = render(config(`{ address: "127.0.0.1:8443", tls: {} }`));
    assert.match(none, /a tls: bind needs certificates/);
  });
});

describe("tls: on servers and the tls/sni conditions", () => {
  it("resolves verify, ca_file, sni; a missing ca_file is an error", () => {
    const text = config(`127.0.0.1:8080`).replace("s: { address: 127.0.0.1, port: 1 }", `s: { address: 127.0.0.1, port: 1, tls: { ca_file: ${ca.cert}, sni: x.test } }, t: { address: 127.0.0.1, port: 2, tls: true }, u: { address: 127.0.0.1, port: 3, tls: { ca_file: /nonexistent/ca.pem } }`);
    const { r, out } = render(text);
    assert.match(out, /error: Cannot read CA file "\/nonexistent\/ca\.pem": no such file/);
    assert.equal(r.config, undefined);
    const ok = render(text.replace(/, u: \{[^}]*\} \}/, ""));
    const [s, t] = ok.r.config!.backends[0].servers;
    assert.deepEqual(s.tls, { verify: "required", caFile: ca.cert, sni: "x.test", alpn: [], minVersion: "TLSv1.2", ciphers: undefined });
    assert.equal(t.tls?.verify, "required");
  });

  it("tls: true|false and sni: names are conditions", () => {
    const { r } = render(config(`127.0.0.1:8080`).replace("default_backend: b", `default_backend: b\n    http_request: [{ action: redirect, scheme: https, if: { not: { tls: true } } }]\n    use_backend: [{ backend: b, if: { sni: ["*.A.test", b.test] } }]`));
    assert.equal(r.diagnostics.length, 0, r.diagnostics.map((d) => d.message).join());
    assert.deepEqual(r.config!.frontends[0].httpRequest[0].if, { not: { tls: true } });
    assert.deepEqual(r.config!.frontends[0].useBackend[0].if, { sni: ["*.a.test", "b.test"] });
  });
});

describe("acme:", () => {
  it("resolves defaults; refuses wildcards (HTTP-01) and names that are not domains", () => {
    const { r } = render(config("127.0.0.1:8080", `acme: { directory: "https://acme.test/dir", email: ops@a.test, certificates: { site: { domains: [a.test, www.a.test] } } }`));
    assert.deepEqual(r.config!.acme, { directory: "https://acme.test/dir", email: "ops@a.test", caFile: undefined, renewBefore: 30 * 86_400_000, retry: 60_000, retryMax: 6 * 3_600_000, certificates: [{ name: "site", domains: ["a.test", "www.a.test"], keyType: "ecdsa" }] });
    const { out } = render(config("127.0.0.1:8080", `acme: { directory: "https://acme.test/dir", certificates: { site: { domains: ["*.a.test", "a b"] } } }`));
    assert.match(out, /"\*\.a\.test": a wildcard needs the DNS-01 challenge/);
    assert.match(out, /"a b" is not a domain name/);
  });
});
