// The acme: section: schema, defaults and normalization (the ACME subsystem's config section).

import { resolve } from "node:path";
import { z } from "zod";
import type { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import type { ProxyConfig } from "../proxy/config_types.ts";
import { duration } from "../config/schema_types.ts";

const obj = z.strictObject;

export const acmeSchema = obj({
  directory: z.string().url(),
  email: z.string().optional(),
  /** CA bundle to trust for the directory's HTTPS (a private ACME server such as pebble). */
  ca_file: z.string().optional(),
  /** Renew when less than this is left (default 30d). */
  renew_before: duration.optional(),
  /** First retry after a failed order (doubles up to retry_max). */
  retry: duration.optional(),
  retry_max: duration.optional(),
  certificates: z.record(z.string(), obj({
    domains: z.array(z.string()).min(1, "list at least one domain"),
    key_type: z.enum(["ecdsa", "rsa"]).optional(),
  })),
});

export type AcmeInput = z.output<typeof acmeSchema>;

export interface AcmeCertificateConfig {
  name: string;
  domains: string[];
  keyType: "ecdsa" | "rsa";
}

export interface AcmeConfig {
  directory: string;
  email?: string;
  caFile?: string;
  renewBefore: number;
  retry: number;
  retryMax: number;
  certificates: AcmeCertificateConfig[];
}

export const ACME_DEFAULTS = { renewBefore: 30 * 86_400_000, retry: 60_000, retryMax: 6 * 3_600_000 } as const;

const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Resolves the acme: section; domain names are checked (HTTP-01 cannot prove a wildcard). */
export function normalizeAcme(a: AcmeInput, diag: Diagnostics): AcmeConfig {
  const certificates = Object.entries(a.certificates).map(([name, c]): AcmeCertificateConfig => {
    c.domains.forEach((d, i) => {
      const p = ["acme", "certificates", name, "domains", i];
      if (!DOMAIN.test(d)) diag.error(p, `"${d}" is not a domain name`);
      else if (d.startsWith("*.")) diag.error(p, `"${d}": a wildcard needs the DNS-01 challenge; tandem answers HTTP-01 only`, "list each name");
    });
    return { name, domains: c.domains.map((d) => d.toLowerCase()), keyType: c.key_type ?? "ecdsa" };
  });
  if (a.renew_before !== undefined && a.renew_before <= 0) diag.error(["acme", "renew_before"], "renew_before must be above 0");
  return {
    directory: a.directory,
    email: a.email,
    caFile: a.ca_file === undefined ? undefined : resolve(a.ca_file),
    renewBefore: a.renew_before ?? ACME_DEFAULTS.renewBefore,
    retry: a.retry ?? ACME_DEFAULTS.retry,
    retryMax: a.retry_max ?? ACME_DEFAULTS.retryMax,
    certificates,
  };
}

/**
 * The `acme` section. Its check: every `tls.acme` name of a bind is an acme.certificates entry
 * (and binds naming one exist only with an acme section).
 */
export const acmeSection: ConfigSection<{ acme?: AcmeConfig }> = {
  name: "acme",
  keys: { acme: acmeSchema.optional() },
  normalize(ctx, diag) {
    const a = ctx.input.acme as AcmeInput | undefined;
    return { acme: a ? normalizeAcme(a, diag) : undefined };
  },
  check(config, ctx, diag) {
    const names = new Set((config.acme as AcmeConfig | undefined)?.certificates.map((c) => c.name) ?? []);
    for (const f of (config as unknown as ProxyConfig).frontends ?? []) {
      const section = (ctx.input.proxies as Record<string, unknown> | undefined)?.[f.name] ? "proxies" : "frontends";
      const raw = ((ctx.input[section] as Record<string, { bind?: unknown }> | undefined)?.[f.name])?.bind;
      f.binds.forEach((b, i) => {
        b.tls?.acme.forEach((name, j) => {
          if (names.has(name)) return;
          const path = [section, f.name, "bind", ...(Array.isArray(raw) ? [i] : []), "tls", "acme", j];
          diag.error(path, `unknown ACME certificate "${name}"`, names.size ? `defined: ${[...names].join(", ")}` : "define it under acme.certificates");
        });
      });
    }
  },
};
