// TLS termination on loopback: SNI selection, ECDSA/RSA, ALPN (curl and node), HTTP/2 streams to HTTP/1.1, TLS rules, reload.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { Server as HttpsServer } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import { X509Certificate } from "node:crypto";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";
import type { TestCa } from "../helpers/certs.ts";
import { freePort, httpBackend, raw } from "./http_helpers.ts";
import type { Backend } from "./http_helpers.ts";
import { h2Client, h2Request, httpsText, startTlsProxy, tlsOpen } from "./tls_helpers.ts";
import type { TlsProxy } from "./tls_helpers.ts";

const run = promisify(execFile);

let ca: TestCa;
let dir: string;
let b: Backend;
let other: Backend;
const files: Record<string, string> = {};

before(() => {
  ca = makeCa();
  dir = tempDir();
  files.a = makeLeaf(ca, join(dir, "a.pem"), { names: ["a.test"], chain: true });
  files.aRsa = makeLeaf(ca, join(dir, "a-rsa.pem"), { names: ["a.test"], keyType: "rsa" });
  files.wild = makeLeaf(ca, join(dir, "wild.pem"), { names: ["*.w.test"], keyBeside: true });
  files.dflt = makeLeaf(ca, join(dir, "0-default.pem"), { names: ["default.test"] });
});

async function backends(): Promise<void> {
  b = await httpBackend("b");
  other = await httpBackend("other");
}

const subject = (s: { getPeerX509Certificate(): X509Certificate | undefined }) => s.getPeerX509Certificate()?.subject.replace(/\n/g, ",") ?? "";

describe("TLS termination", () => {
  let p: TlsProxy;
  let port: number;
  let plain: number;
  before(async () => {
    await backends();
    port = await freePort();
    plain = await freePort();
    p = await startTlsProxy(`
global: { state_dir: ${dir}/state }
frontends:
  web:
    bind: ["127.0.0.1:${plain}", { address: "127.0.0.1:${port}", tls: { crt: [${files.dflt}, ${files.a}, ${files.aRsa}, ${files.wild}] } }]
    forwardfor: true
    http_request:
      - { action: redirect, scheme: https, code: 301, if: { not: { tls: true } } }
    use_backend:
      - { backend: other, if: { sni: "*.w.test" } }
    default_backend: b
backends:
  b: { servers: { b1: { address: 127.0.0.1, port: ${b.port} } } }
  other: { servers: { o1: { address: 127.0.0.1, port: ${other.port} } } }
`);
  });
  after(async () => {
    await p.stop();
    await b.close();
    await other.close();
  });

  it("chooses the certificate by SNI: exact name, wildcard one label deep, the first file without SNI or for an unknown name", async () => {
    const cases: [string | undefined, string][] = [["a.test", "CN=a.test"], ["x.w.test", "CN=*.w.test"], ["a.b.w.test", "CN=default.test"], ["unknown.test", "CN=default.test"], [undefined, "CN=default.test"]];
    for (const [sni, want] of cases) {
      const s = await tlsOpen(port, sni ? { servername: sni } : {});
      assert.equal(subject(s), want, `SNI ${sni}`);
      s.destroy();
    }
  });

  it("serves the ECDSA or the RSA certificate of a name by what the client can verify", async () => {
    const ec = await tlsOpen(port, { servername: "a.test", sigalgs: "ECDSA+SHA256", maxVersion: "TLSv1.2" });
    assert.equal(ec.getPeerX509Certificate()?.publicKey.asymmetricKeyType, "ec");
    ec.destroy();
    const rsa = await tlsOpen(port, { servername: "a.test", sigalgs: "RSA+SHA256:RSA-PSS+SHA256", maxVersion: "TLSv1.2" });
    assert.equal(rsa.getPeerX509Certificate()?.publicKey.asymmetricKeyType, "rsa");
    rsa.destroy();
  });

  it("verifies with the CA: the chain in the file is sent", async () => {
    const s = await tlsOpen(port, { servername: "a.test", ca: readFileSync(ca.cert), rejectUnauthorized: true });
    assert.equal(s.authorized, true);
    s.destroy();
  });

  it("answers HTTP/1.1 over TLS with X-Forwarded-Proto https, and routes on the SNI", async () => {
    const text = await httpsText(port, "GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", { servername: "a.test" });
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /b \/x/);
    assert.equal(b.last?.headers["x-forwarded-proto"], "https");
    const w = await httpsText(port, "GET /y HTTP/1.1\r\nHost: x.w.test\r\nConnection: close\r\n\r\n", { servername: "x.w.test" });
    assert.match(w, /other \/y/);
  });

  it("redirects plain HTTP to https with the redirect rule (not tls)", async () => {
    const r = await raw(plain, "GET /p?q=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
    assert.match(r.text, /^HTTP\/1\.1 301/);
    assert.match(r.text, /Location: https:\/\/a\.test\/p\?q=1/);
  });

  it("speaks h2 and http/1.1 by ALPN to curl", async () => {
    const args = (v: string) => ["-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", v, "--cacert", ca.cert, "--resolve", `a.test:${port}:127.0.0.1`, `https://a.test:${port}/c`];
    assert.equal((await run("curl", args("--http2"))).stdout, "2 200");
    assert.equal((await run("curl", args("--http1.1"))).stdout, "1.1 200");
  });

  it("relays 300 concurrent HTTP/2 streams (over 100 allowed at once) to an HTTP/1.1 server, bodies both ways", async () => {
    const c = h2Client(port, { servername: "a.test", ca: readFileSync(ca.cert) });
    try {
      const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => h2Request(c, { ":path": `/n${i}`, ":authority": "a.test" })));
      assert.deepEqual(new Set(rs.map((r) => r.status)), new Set([200]));
      assert.equal(rs[123].body, "b /n123");
      const body = "x".repeat(200_000);
      const post = await h2Request(c, { ":path": "/echo", ":method": "POST", ":authority": "a.test" }, body);
      assert.equal(post.body.length, body.length);
      assert.match(b.last?.headers["transfer-encoding"] ?? "", /chunked/);
      const chunked = await h2Request(c, { ":path": "/chunked", ":authority": "a.test" });
      assert.equal(chunked.body, "one,two,three");
      const big = await h2Request(c, { ":path": "/big?n=3000000", ":authority": "a.test" });
      assert.equal(big.body.length, 3_000_000);
      assert.equal(b.last?.headers["x-forwarded-proto"], "https");
      assert.equal(b.last?.headers.host, "a.test");
    } finally {
      c.close();
    }
    const st = p.status().tls!;
    assert.ok(st.h2 >= 1 && st.handshakes >= 5, JSON.stringify(st));
  });

  it("counts failed handshakes by reason", async () => {
    await raw(port, "GET / HTTP/1.1\r\n\r\n", 1000);
    await assert.rejects(tlsOpen(port, { maxVersion: "TLSv1.2", ciphers: "PSK-AES128-CBC-SHA" }));
    await new Promise((r) => setTimeout(r, 50));
    const f = p.status().tls!.failures;
    assert.ok((f.not_tls ?? 0) >= 1, JSON.stringify(f));
    assert.ok((f.cipher ?? 0) + (f.protocol ?? 0) >= 1, JSON.stringify(f));
  });
});

describe("TLS toward servers", () => {
  let https: HttpsServer;
  let httpsPort: number;
  let wrongCa: TestCa;
  before(async () => {
    wrongCa = makeCa("another CA");
    const pem = makeLeaf(ca, join(dir, "server.pem"), { names: ["srv.test", "127.0.0.1"] });
    https = createHttpsServer({ cert: readFileSync(pem), key: readFileSync(pem) }, (req, res) => res.end(`tls backend ${req.url} ${req.socket.servername ?? ""}`));
    await new Promise<void>((r) => https.listen(0, "127.0.0.1", () => r()));
    httpsPort = (https.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => https.close(() => r())));

  async function through(serverTls: string, check = ""): Promise<{ p: TlsProxy; port: number }> {
    const port = await freePort();
    const p = await startTlsProxy(`
global: { state_dir: ${dir}/state }
frontends:
  web: { bind: "127.0.0.1:${port}", default_backend: s }
backends:
  s: { retries: 0, servers: { s1: { address: 127.0.0.1, port: ${httpsPort}, tls: ${serverTls} ${check} } } }
`);
    return { p, port };
  }

  it("connects with verify required against ca_file, and sends the configured SNI", async () => {
    const { p, port } = await through(`{ verify: required, ca_file: ${ca.cert}, sni: srv.test }`);
    try {
      const r = await raw(port, "GET /v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(r.text, /^HTTP\/1\.1 200/);
      assert.match(r.text, /tls backend \/v srv\.test/);
    } finally {
      await p.stop();
    }
  });

  it("refuses a server whose certificate another CA signed (503), unless verify is none", async () => {
    const bad = await through(`{ verify: required, ca_file: ${wrongCa.cert} }`);
    try {
      const r = await raw(bad.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(r.text, /^HTTP\/1\.1 503/);
    } finally {
      await bad.p.stop();
    }
    const none = await through(`{ verify: none }`);
    try {
      const r = await raw(none.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(r.text, /^HTTP\/1\.1 200/);
    } finally {
      await none.p.stop();
    }
  });

  it("checks the server over HTTPS: up with the right CA, down (L4CON, TLS) with the wrong one", async () => {
    const chk = ", check: { path: /health, interval: 100ms, rise: 1, fall: 1 }";
    const good = await through(`{ ca_file: ${ca.cert} }${chk}`);
    const bad = await through(`{ ca_file: ${wrongCa.cert} }${chk}`);
    try {
      await new Promise((r) => setTimeout(r, 600));
      const state = (x: TlsProxy) => JSON.stringify((x.status() as { backends: { servers: { state: string; check?: string }[] }[] }).backends[0].servers[0]);
      assert.match(state(good.p), /"state":"up".*L7OK/);
      assert.match(state(bad.p), /"state":"down".*L4CON TLS: certificate verify failed/);
    } finally {
      await good.p.stop();
      await bad.p.stop();
    }
  });
});

describe("certificate reload", () => {
  it("serves a renewed certificate after reload while requests run, without a failed request", async () => {
    const be = await httpBackend("r");
    const port = await freePort();
    const live = join(dir, "live.pem");
    copyFileSync(makeLeaf(ca, join(dir, "old.pem"), { names: ["r.test"] }), live);
    const yaml = `
global: { state_dir: ${dir}/state }
frontends:
  web: { bind: { address: "127.0.0.1:${port}", tls: { crt: ${live} } }, default_backend: r }
backends:
  r: { servers: { r1: { address: 127.0.0.1, port: ${be.port} } } }
`;
    const p = await startTlsProxy(yaml);
    const before = new X509Certificate(readFileSync(live)).fingerprint256;
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    let h2 = h2Client(port, { servername: "r.test" });
    let reconnects = 0;
    const loop = async () => {
      while (running) {
        try {
          const t = await httpsText(port, "GET /l HTTP/1.1\r\nHost: r.test\r\nConnection: close\r\n\r\n", { servername: "r.test" });
          if (/^HTTP\/1\.1 200/.test(t)) ok++;
          else failures.push(t.slice(0, 40));
          // After GOAWAY (the old config's connections are retired) a client opens a new connection.
          if (h2.closed || h2.destroyed) {
            h2 = h2Client(port, { servername: "r.test" });
            reconnects++;
          }
          const r = await h2Request(h2, { ":path": "/h2", ":authority": "r.test" }).catch((err) => {
            // RFC 9113 §8.7: a stream refused by GOAWAY was not processed: safe to send again.
            if (!/GOAWAY|REFUSED_STREAM|session has been destroyed/i.test(`${err.code} ${err.message}`)) throw err;
            h2 = h2Client(port, { servername: "r.test" });
            reconnects++;
            return h2Request(h2, { ":path": "/h2", ":authority": "r.test" });
          });
          if (r.status === 200) ok++;
          else failures.push(`h2 ${r.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    try {
      const loops = [loop(), loop(), loop()];
      await new Promise((r) => setTimeout(r, 300));
      copyFileSync(makeLeaf(ca, join(dir, "new.pem"), { names: ["r.test"] }), live);
      await p.reload(yaml);
      await new Promise((r) => setTimeout(r, 300));
      running = false;
      await Promise.all(loops);
      assert.deepEqual(failures, []);
      assert.ok(ok > 20, `only ${ok} requests`);
      assert.ok(reconnects >= 1, "the HTTP/2 connection of the old config was not retired");
      const s = await tlsOpen(port, { servername: "r.test" });
      const now = s.getPeerX509Certificate()!.fingerprint256;
      s.destroy();
      assert.notEqual(now, before);
      assert.equal(now, new X509Certificate(readFileSync(live)).fingerprint256);
    } finally {
      h2.close();
      await p.stop();
      await be.close();
    }
  });
});
