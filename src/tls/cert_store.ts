// Certificates from crt paths (files or directories, as haproxy's `crt`), read once per change of the file.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CertificateError, loadCertificate } from "./certificate.ts";
import type { LoadedCertificate } from "./certificate.ts";

/** Files haproxy keeps beside certificates in a crt directory and does not load as certificates. */
const SIDE_FILES = /\.(key|ocsp|issuer|sctl|dh)$/;

/**
 * The certificate files a crt path names: the file itself, or every file of the directory in name
 * order (haproxy's order: the first one is the default certificate), skipping dotfiles and the
 * .key/.ocsp/.issuer/.sctl files that go with certificates. Throws CertificateError.
 */
export function certificateFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CertificateError(path, code === "ENOENT" ? "no such file or directory" : (err as Error).message, { cause: err });
  }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path, { withFileTypes: true })
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && !d.name.startsWith(".") && !SIDE_FILES.test(d.name))
    .map((d) => join(path, d.name))
    .sort();
  if (files.length === 0) throw new CertificateError(path, "the directory holds no certificate file");
  return files;
}

interface Cached {
  stamp: string;
  result: LoadedCertificate | CertificateError;
}

/**
 * Loaded certificates by file, re-read only when the file (or its .key) changed: a reload under
 * load re-reads renewed files and nothing else.
 */
export class CertificateCache {
  #byFile = new Map<string, Cached>();

  /** One file: its certificate or the reason it cannot be used (never throws). */
  load(file: string): LoadedCertificate | CertificateError {
    const stamp = stampOf(file) + "|" + stampOf(`${file}.key`);
    const hit = this.#byFile.get(file);
    if (hit && hit.stamp === stamp) return hit.result;
    let result: LoadedCertificate | CertificateError;
    try {
      result = loadCertificate(file);
    } catch (err) {
      result = err instanceof CertificateError ? err : new CertificateError(file, (err as Error).message, { cause: err });
    }
    this.#byFile.set(file, { stamp, result });
    return result;
  }

  /**
   * Every certificate of the crt paths, in order, and every problem (a path that is missing, a
   * file that is not a usable certificate). Never throws.
   */
  loadAll(paths: readonly string[]): { certs: LoadedCertificate[]; errors: CertificateError[] } {
    const certs: LoadedCertificate[] = [];
    const errors: CertificateError[] = [];
    for (const p of paths) {
      let files: string[];
      try {
        files = certificateFiles(p);
      } catch (err) {
        errors.push(err as CertificateError);
        continue;
      }
      for (const f of files) {
        const r = this.load(f);
        if (r instanceof CertificateError) errors.push(r);
        else certs.push(r);
      }
    }
    return { certs, errors };
  }
}

function stampOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return "-";
  }
}

/** The process-wide cache (config checks and the proxy share it). */
export const certificateCache = new CertificateCache();
