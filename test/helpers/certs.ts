// Test certificates made with the openssl command: a CA, and leaves (ECDSA or RSA) with chosen names and dates.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  dir: string;
  cert: string;
  key: string;
}

const openssl = (args: string[], cwd?: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** A new directory under the system temp dir. */
export function tempDir(prefix = "tandem-tls-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function newKey(file: string, type: "ec" | "rsa"): void {
  if (type === "ec") openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  else openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file]);
}

/** A self-signed CA (ECDSA P-256) in a new directory, with an `openssl ca` database. */
export function makeCa(name = "tandem test CA", dir = tempDir()): TestCa {
  mkdirSync(join(dir, "ca"), { recursive: true });
  const key = join(dir, "ca/ca.key");
  const cert = join(dir, "ca/ca.pem");
  newKey(key, "ec");
  openssl(["req", "-x509", "-new", "-key", key, "-out", cert, "-days", "3650", "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  writeFileSync(join(dir, "ca/index.txt"), "");
  writeFileSync(join(dir, "ca/serial"), "1000\n");
  writeFileSync(join(dir, "ca/ca.cnf"), `[ ca ]
default_ca = test
[ test ]
dir = ${join(dir, "ca")}
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
certificate = ${cert}
private_key = ${key}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[ any ]
commonName = supplied
`);
  return { dir, cert, key };
}

/** "YYYYMMDDHHMMSSZ" for openssl ca. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
}

export interface LeafOptions {
  names: string[];
  keyType?: "ec" | "rsa";
  notBefore?: Date;
  notAfter?: Date;
  /** Write the key into FILE.key instead of the PEM bundle (haproxy accepts both). */
  keyBeside?: boolean;
  /** Append the CA certificate as chain. */
  chain?: boolean;
}

/** A leaf certificate signed by ca: returns the path of the PEM (certificate, chain, key). */
export function makeLeaf(ca: TestCa, file: string, o: LeafOptions): string {
  const work = tempDir("tandem-leaf-");
  const key = join(work, "leaf.key");
  const csr = join(work, "leaf.csr");
  const crt = join(work, "leaf.pem");
  newKey(key, o.keyType ?? "ec");
  const san = o.names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/CN=${o.names[0]}`, "-addext", `subjectAltName=${san}`]);
  const notBefore = o.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = o.notAfter ?? new Date(Date.now() + 90 * 86_400_000);
  openssl(["ca", "-batch", "-notext", "-config", join(ca.dir, "ca/ca.cnf"), "-in", csr, "-out", crt, "-startdate", stamp(notBefore), "-enddate", stamp(notAfter)]);
  const parts = [readFileSync(crt, "utf8")];
  if (o.chain) parts.push(readFileSync(ca.cert, "utf8"));
  if (o.keyBeside) writeFileSync(`${file}.key`, readFileSync(key));
  else parts.push(readFileSync(key, "utf8"));
  writeFileSync(file, parts.join(""));
  return file;
}
