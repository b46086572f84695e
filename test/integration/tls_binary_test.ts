// The built binary with TLS: --check on bad and expired certificates, reload of a renewed one on SIGHUP and `tandem ctl reload`.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { makeCa, makeLeaf, tempDir } from "../helpers/certs.ts";
import { accepting, freePort } from "../helpers/net.ts";
import { runTandem, runTandemAsync, tandemBinary } from "../helpers/binary.ts";
import { httpBackend } from "./http_helpers.ts";
import { tlsOpen } from "./tls_helpers.ts";

const ca = makeCa();
const dir = tempDir();

const served = async (port: number) => {
  const s = await tlsOpen(port, { servername: "bin.test" });
  const fp = s.getPeerX509Certificate()!.fingerprint256;
  s.destroy();
  return fp;
};
const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("tandem --check with certificates", () => {
  it("a bad PEM is an error naming the file (exit 1); an expired certificate a warning with its date (exit 0)", () => {
    const bad = join(dir, "bad.pem");
    writeFileSync(bad, "-----BEGIN CERTIFICATE-----\nMIIB\n");
    const expired = makeLeaf(ca, join(dir, "expired.pem"), { names: ["old.test"], notBefore: new Date("2023-01-01T00:00:00Z"), notAfter: new Date("2023-06-30T00:00:00Z") });
    const yaml = (crt: string) => {
      const f = join(dir, `check-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, `global: { state_dir: ${dir}/state }\nproxies:\n  web:\n    bind: { address: "127.0.0.1:8443", tls: { crt: ${crt} } }\n    servers: { s: { address: 127.0.0.1, port: 1 } }\n`);
      return f;
    };
    const r1 = runTandem(["--config", yaml(bad), "--check"]);
    assert.equal(r1.status, 1, r1.stderr);
    assert.match(r1.stderr, /error: Cannot use certificate ".*bad\.pem": not a valid PEM file: line 1: "BEGIN CERTIFICATE" has no END line/);
    const r2 = runTandem(["--config", yaml(expired), "--check"]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stderr, /warning: certificate ".*expired\.pem" \(old\.test\) expired on 2023-06-30/);
  });
});

describe("certificate reload in the binary", () => {
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill("SIGKILL");
  });

  it("serves a renewed certificate after SIGHUP, and after `tandem ctl reload`", async () => {
    const be = await httpBackend("bin");
    const port = await freePort();
    const live = join(dir, "live.pem");
    copyFileSync(makeLeaf(ca, join(dir, "v1.pem"), { names: ["bin.test"] }), live);
    const yaml = join(dir, "reload.yaml");
    writeFileSync(yaml, `global: { state_dir: ${dir}/state, admin_socket: ${dir}/admin.sock }
frontends:
  web: { bind: { address: "127.0.0.1:${port}", tls: { crt: ${live} } }, default_backend: b }
backends:
  b: { servers: { b1: { address: 127.0.0.1, port: ${be.port} } } }
`);
    child = spawn(tandemBinary(), ["--config", yaml, "--role", "master"], { stdio: "ignore" });
    try {
      await accepting(port, 10_000);
      assert.equal(await served(port), fingerprint(live));
      copyFileSync(makeLeaf(ca, join(dir, "v2.pem"), { names: ["bin.test"] }), live);
      child.kill("SIGHUP");
      await until("the certificate renewed before SIGHUP", 5000, async () => (await served(port)) === fingerprint(live));
      copyFileSync(makeLeaf(ca, join(dir, "v3.pem"), { names: ["bin.test"] }), live);
      const r = await runTandemAsync(["ctl", "--socket", `${dir}/admin.sock`, "reload"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(await served(port), fingerprint(live));
      const show = await runTandemAsync(["ctl", "--socket", `${dir}/admin.sock`, "show", "tls"]);
      assert.match(show.stdout, /bin\.test\s+ec\s+\d{4}-/);
      assert.match(show.stdout, /Handshakes: \d+\nHandshake_failures: /);
    } finally {
      child.kill("SIGTERM");
      await be.close();
    }
  });
});
