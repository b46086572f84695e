// When a served certificate is worth a warning: pure, so the schedule is tested with plain numbers.

import type { LoadedCertificate } from "./certificate.ts";

/** Warn when less than this is left (docs/config.md: cert_expiring). */
export const WARN_BEFORE_MS = 14 * 86_400_000;
/** Repeat a warning for the same certificate at most this often. */
export const WARN_EVERY_MS = 86_400_000;

export interface ExpiryWarning {
  cert: LoadedCertificate;
  /** Whole days left, rounded down; 0 or less: expired. */
  days: number;
}

/**
 * The certificates to warn about now: those expiring within warnBefore that were not warned about
 * in the last WARN_EVERY_MS. `last` (fingerprint → wall ms of the last warning) is updated.
 */
export function dueWarnings(certs: Iterable<LoadedCertificate>, now: number, last: Map<string, number>, warnBefore = WARN_BEFORE_MS): ExpiryWarning[] {
  const out: ExpiryWarning[] = [];
  for (const cert of certs) {
    const left = cert.notAfter.getTime() - now;
    if (left > warnBefore) continue;
    const prev = last.get(cert.fingerprint);
    if (prev !== undefined && now - prev < WARN_EVERY_MS) continue;
    last.set(cert.fingerprint, now);
    out.push({ cert, days: Math.floor(left / 86_400_000) });
  }
  return out;
}

/** "2027-03-18" of a date (UTC), for messages. */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
