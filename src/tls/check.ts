// What `--check` (and every reload) says about certificate and CA files: unusable ones are errors, expired ones warnings.

import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { Diagnostic, Path } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import type { ProxyConfig } from "../proxy/config_types.ts";
import type { AcmeConfig } from "../acme/config.ts";
import { certificateCache, certificateFiles } from "./cert_store.ts";
import { CertificateError } from "./certificate.ts";
import { isoDay } from "./expiry.ts";
import { splitPem } from "./pem.ts";

/**
 * Reads every crt path of the TLS binds and every ca_file, and reports: a file that is missing or
 * not a usable certificate (error, with the file name and why), an expired or not yet valid
 * certificate (warning, with the date). `now` is wall-clock ms.
 */
export function checkTlsFiles(config: ProxyConfig & { acme?: AcmeConfig }, input: Readonly<Record<string, unknown>>, now: number): Diagnostic[] {
  const proxies = input.proxies as Record<string, { bind?: unknown }> | undefined;
  const frontends = input.frontends as Record<string, { bind?: unknown }> | undefined;
  const out: Diagnostic[] = [];
  for (const f of config.frontends) {
    const section = proxies?.[f.name] ? "proxies" : "frontends";
    const rawBind = (proxies?.[f.name] ?? frontends?.[f.name])?.bind;
    f.binds.forEach((b, i) => {
      if (!b.tls) return;
      const base: Path = [section, f.name, "bind", ...(Array.isArray(rawBind) ? [i] : []), "tls", "crt"];
      b.tls.crt.forEach((crt, j) => {
        const path = [...base, j];
        let files: string[];
        try {
          files = certificateFiles(crt);
        } catch (err) {
          out.push({ severity: "error", path, message: (err as Error).message });
          return;
        }
        for (const file of files) {
          const r = certificateCache.load(file);
          if (r instanceof CertificateError) {
            out.push({ severity: "error", path, message: r.message, hint: "a crt file holds the certificate, its chain and its private key (PEM), or the key is in FILE.key" });
            continue;
          }
          if (r.notAfter.getTime() <= now) out.push({ severity: "warning", path, message: `certificate "${file}" (${r.names[0] ?? "no name"}) expired on ${isoDay(r.notAfter)}`, hint: "clients will refuse it: renew it" });
          else if (r.notBefore.getTime() > now) out.push({ severity: "warning", path, message: `certificate "${file}" is not valid before ${isoDay(r.notBefore)}` });
          if (r.names.length === 0) out.push({ severity: "warning", path, message: `certificate "${file}" names no host (no subjectAltName DNS entry, no CN): it only serves as the default` });
        }
      });
    });
  }
  for (const b of config.backends) {
    const section = proxies?.[b.name] ? "proxies" : "backends";
    for (const s of b.servers) {
      if (s.tls?.caFile) {
        const problem = caProblem(s.tls.caFile);
        if (problem) out.push({ severity: "error", path: [section, b.name, "servers", s.name, "tls", "ca_file"], message: problem });
      }
    }
  }
  if (config.acme?.caFile) {
    const problem = caProblem(config.acme.caFile);
    if (problem) out.push({ severity: "error", path: ["acme", "ca_file"], message: problem });
  }
  return out;
}

/** Why a CA bundle cannot be used, or undefined. */
function caProblem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `Cannot read CA file "${file}": ${code === "ENOENT" ? "no such file" : (err as Error).message}`;
  }
  try {
    const certs = splitPem(text).filter((b) => b.label === "CERTIFICATE");
    if (certs.length === 0) return `CA file "${file}" holds no certificate`;
    for (const c of certs) new X509Certificate(c.text);
  } catch (err) {
    return `CA file "${file}" is not valid PEM: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The TLS subsystem's checks, as a config section without keys of its own (the tls: blocks are
 * in the proxy's binds and servers): certificate and CA files are read at --check and reload.
 */
export const tlsSection: ConfigSection<Record<never, never>> = {
  name: "tls",
  keys: {},
  normalize: () => ({}),
  check(config, ctx, diag) {
    if (!ctx.firstRole) return;
    diag.items.push(...checkTlsFiles(config as unknown as ProxyConfig & { acme?: AcmeConfig }, ctx.input, Date.now()));
  },
};
