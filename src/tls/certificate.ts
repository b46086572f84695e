// One certificate file in haproxy's format: the certificate, its chain and its key in one PEM (or key beside it).

import { existsSync, readFileSync } from "node:fs";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { TandemError } from "../core/errors.ts";
import { isKeyLabel, PemError, splitPem } from "./pem.ts";

/** A certificate ready to serve. */
export interface LoadedCertificate {
  file: string;
  leaf: X509Certificate;
  /** PEM of the leaf followed by the chain, as sent to clients. */
  certPem: string;
  keyPem: string;
  /** "ec", "rsa", "ed25519"... (node:crypto's asymmetricKeyType). */
  keyType: string;
  /** DNS names it is valid for, lower-cased (subjectAltName, else the subject CN). */
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint, to tell a renewed file from the one loaded before. */
  fingerprint: string;
}

/** A certificate file tandem cannot use: code E_CERT, the message starts with the file name. */
export class CertificateError extends TandemError {
  readonly file: string;
  constructor(file: string, why: string, options?: { cause?: unknown }) {
    super("E_CERT", `Cannot use certificate "${file}": ${why}`, options);
    this.name = "CertificateError";
    this.file = file;
  }
}

/** DNS names of a certificate: subjectAltName DNS entries (RFC 6125 §6.4.4), else the CN. */
export function certificateNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const names = san.split(/,\s*/).filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4).toLowerCase());
    if (names.length) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
  return cn ? [cn[1].trim().toLowerCase()] : [];
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CertificateError(file, `${what}: ${e.code === "ENOENT" ? "no such file" : e.code === "EACCES" ? "permission denied" : e.message}`, { cause: err });
  }
}

/**
 * Reads a PEM bundle: the first certificate is the one served, the others are its chain; the
 * private key is in the same file or, as haproxy does, in FILE.key beside it. Checks that the
 * key belongs to the certificate. Expiry is not an error here (see expiry.ts).
 * Throws CertificateError (E_CERT) naming the file and the reason.
 */
export function loadCertificate(file: string): LoadedCertificate {
  const text = readText(file, "cannot read it");
  let blocks;
  try {
    blocks = splitPem(text);
  } catch (err) {
    throw new CertificateError(file, `not a valid PEM file: ${(err as PemError).message}`, { cause: err });
  }
  const certs = blocks.filter((b) => b.label === "CERTIFICATE" || b.label === "TRUSTED CERTIFICATE");
  if (certs.length === 0) throw new CertificateError(file, blocks.length === 0 ? "no PEM block in it (expected a certificate and its key)" : "no certificate in it");
  let keys = blocks.filter((b) => isKeyLabel(b.label));
  let keyFile = file;
  if (keys.length === 0 && existsSync(`${file}.key`)) {
    keyFile = `${file}.key`;
    try {
      keys = splitPem(readText(keyFile, "cannot read its key file")).filter((b) => isKeyLabel(b.label));
    } catch (err) {
      if (err instanceof CertificateError) throw err;
      throw new CertificateError(file, `its key file "${keyFile}" is not valid PEM: ${(err as Error).message}`, { cause: err });
    }
  }
  if (keys.length === 0) {
    const encrypted = blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY");
    throw new CertificateError(file, encrypted ? "its private key is encrypted (tandem needs it without a passphrase)" : "no private key in it or in a .key file beside it");
  }
  if (keys.length > 1) throw new CertificateError(file, `${keys.length} private keys in it (expected one)`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certs[0].text);
  } catch (err) {
    throw new CertificateError(file, `the certificate on line ${certs[0].line} cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  certs.slice(1).forEach((c) => {
    try {
      new X509Certificate(c.text);
    } catch (err) {
      throw new CertificateError(file, `the chain certificate on line ${c.line} cannot be parsed: ${(err as Error).message}`, { cause: err });
    }
  });
  let key: KeyObject;
  try {
    key = createPrivateKey(keys[0].text);
  } catch (err) {
    const where = keyFile === file ? `on line ${keys[0].line}` : `in "${keyFile}"`;
    throw new CertificateError(file, `the private key ${where} cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  if (!leaf.checkPrivateKey(key)) throw new CertificateError(file, "the private key does not belong to the certificate");
  return {
    file,
    leaf,
    certPem: certs.map((c) => c.text).join(""),
    keyPem: keys[0].text,
    keyType: key.asymmetricKeyType ?? "unknown",
    names: certificateNames(leaf),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    fingerprint: leaf.fingerprint256,
  };
}
