// Where ACME state lives under global.state_dir: the account key, certificates, pending challenges.

import { join } from "node:path";

/** The directory of all ACME state (mode 0700). */
export function acmeDir(stateDir: string): string {
  return join(stateDir, "acme");
}

/** The certificate of an acme.certificates entry: leaf, chain and key in one PEM (haproxy's format). */
export function acmeCertificateFile(stateDir: string, name: string): string {
  return join(acmeDir(stateDir), `${name}.pem`);
}

/** The ACME account key (PEM), one per state_dir and directory URL host. */
export function acmeAccountKeyFile(stateDir: string): string {
  return join(acmeDir(stateDir), "account.key");
}

/** HTTP-01 key authorizations by token, so every proxy process can answer (RFC 8555 §8.3). */
export function acmeChallengeDir(stateDir: string): string {
  return join(acmeDir(stateDir), "http-01");
}
