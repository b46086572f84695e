// ACME against Debian's pebble (pebble-challtestsrv as its DNS, every name → 127.0.0.1): the built binary
// orders a certificate, answers HTTP-01 on its plain bind before any rule, serves it, and renews a short-lived one.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";
import { accepting, freePort } from "../helpers/net.ts";
import { tandemBinary } from "../helpers/binary.ts";
import { tlsOpen } from "./tls_helpers.ts";
import { raw } from "./http_helpers.ts";

const children: ChildProcess[] = [];
function startProcess(cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let out = "";
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  children.push(child);
  return { child, output: () => out };
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("ACME with pebble", () => {
  const dir = tempDir("tandem-acme-");
  let tandem: ReturnType<typeof startProcess>;
  let httpPort: number;
  let tlsPort: number;
  let pebble: ReturnType<typeof startProcess>;

  before(async () => {
    const ca = makeCa("pebble listener CA");
    const listener = makeLeaf(ca, join(dir, "pebble.pem"), { names: ["localhost", "127.0.0.1"], keyBeside: true });
    const [acmePort, pebbleMgmt, dnsPort, challMgmt, pebbleTls] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    httpPort = await freePort();
    tlsPort = await freePort();
    startProcess("pebble-challtestsrv", ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", `127.0.0.1:${dnsPort}`, "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", `127.0.0.1:${challMgmt}`]);
    writeFileSync(join(dir, "pebble.json"), JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${pebbleMgmt}`,
        certificate: listener,
        privateKey: `${listener}.key`,
        httpPort,
        tlsPort: pebbleTls,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        // Short-lived certificates: renewal within the test.
        certificateValidityPeriod: 40,
      },
    }));
    pebble = startProcess("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" });
    await accepting(acmePort, 10_000);
    const yaml = join(dir, "tandem.yaml");
    writeFileSync(yaml, `global: { state_dir: ${dir}/state }
acme:
  directory: https://127.0.0.1:${acmePort}/dir
  email: ops@site.test
  ca_file: ${ca.cert}
  renew_before: 30s
  retry: 1s
  certificates:
    site: { domains: [site.test, www.site.test] }
frontends:
  web:
    bind: ["127.0.0.1:${httpPort}", { address: "127.0.0.1:${tlsPort}", tls: { acme: [site] } }]
    # Every request is refused: the CA's validation is answered before any rule.
    http_request: [{ action: deny, status: 403 }]
    default_backend: b
backends:
  b: { servers: { b1: { address: 127.0.0.1, port: 9 } } }
`);
    tandem = startProcess(tandemBinary(), ["--config", yaml, "--role", "master"]);
  });

  after(async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null) {
        c.kill("SIGTERM");
        await new Promise((r) => {
          const t = setTimeout(() => (c.kill("SIGKILL"), r(undefined)), 5000);
          c.once("exit", () => (clearTimeout(t), r(undefined)));
        });
      }
    }
  });

  it("orders a certificate (HTTP-01 validated by pebble through tandem's plain bind) and serves it on the TLS bind", async () => {
    const file = join(dir, "state/acme/site.pem");
    await until(`the certificate file (tandem: ${tandem.output().slice(-2000)} pebble: ${pebble.output().slice(-1500)})`, 30_000, () => (existsSync(file) ? true : undefined));
    const cert = new X509Certificate(readFileSync(file));
    assert.match(cert.subjectAltName ?? "", /DNS:site\.test/);
    assert.match(cert.subjectAltName ?? "", /DNS:www\.site\.test/);
    assert.match(pebble.output(), /site\.test/);
    const served = await until("the TLS bind to serve it", 10_000, async () => {
      const s = await tlsOpen(tlsPort, { servername: "www.site.test" }).catch(() => undefined);
      const fp = s?.getPeerX509Certificate()?.fingerprint256;
      s?.destroy();
      return fp === cert.fingerprint256 ? fp : undefined;
    });
    assert.equal(served, cert.fingerprint256);
    // The rules still apply to every other request.
    const r = await raw(httpPort, "GET /.well-known/acme-challenge/unknown HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
    assert.match(r.text, /^HTTP\/1\.1 403/);
    assert.equal(existsSync(join(dir, "state/acme/account.key")), true);
  });

  it("renews the short-lived certificate before it ends and serves the new one", async () => {
    const file = join(dir, "state/acme/site.pem");
    const first = new X509Certificate(readFileSync(file)).fingerprint256;
    const renewed = await until(`a renewed certificate (tandem: ${tandem.output().slice(-1500)})`, 40_000, () => {
      const fp = new X509Certificate(readFileSync(file)).fingerprint256;
      return fp !== first ? fp : undefined;
    });
    const served = await until("the renewed certificate to be served", 10_000, async () => {
      const s = await tlsOpen(tlsPort, { servername: "site.test" }).catch(() => undefined);
      const fp = s?.getPeerX509Certificate()?.fingerprint256;
      s?.destroy();
      return fp === renewed ? fp : undefined;
    });
    assert.equal(served, renewed);
    assert.match(tandem.output(), /Certificate for "site" issued/);
    assert.equal(tandem.child.exitCode, null);
  });
});
