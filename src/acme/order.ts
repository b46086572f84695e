// One ACME order (RFC 8555 §7.4) through acme-client: account, HTTP-01 via the challenge store, finalize, download.

import { Agent } from "node:https";
import { X509Certificate } from "node:crypto";
import type { AcmeCertificateConfig, AcmeConfig } from "./config.ts";
import type { ChallengeStore } from "./challenges.ts";

/** What an order gives: the PEM to serve (chain then key, haproxy's format) and its end of validity. */
export interface Issued {
  pem: string;
  notAfter: Date;
}

type AcmeModule = typeof import("acme-client");
let loaded: Promise<AcmeModule> | undefined;

/** acme-client (and axios, forge...) is loaded on the first order only: configs without acme: never pay for it. */
function acmeClient(): Promise<AcmeModule> {
  loaded ??= import("acme-client").then((m) => ((m as { default?: AcmeModule }).default ?? m) as AcmeModule);
  return loaded;
}

/** A new private key in PEM: ECDSA P-256 or RSA 2048. */
export async function newKey(type: "ecdsa" | "rsa"): Promise<string> {
  const acme = await acmeClient();
  return (type === "ecdsa" ? await acme.crypto.createPrivateEcdsaKey("P-256") : await acme.crypto.createPrivateRsaKey(2048)).toString();
}

/**
 * Orders a certificate for cert.domains with the account key, answering HTTP-01 through the
 * challenge store (tandem's own HTTP binds serve it; acme-client's own pre-check over DNS is
 * skipped: the CA's validation is the one that counts). `ca` (PEM) is trusted for the
 * directory's HTTPS. Throws acme-client's error (with the CA's problem document) on failure.
 */
export async function orderCertificate(config: AcmeConfig, cert: AcmeCertificateConfig, accountKey: string, store: ChallengeStore, ca: string | undefined): Promise<Issued> {
  const acme = await acmeClient();
  if (ca !== undefined) acme.axios.defaults.httpsAgent = new Agent({ ca });
  const client = new acme.Client({ directoryUrl: config.directory, accountKey, backoffAttempts: 30, backoffMin: 1000, backoffMax: 10_000 });
  const key = await newKey(cert.keyType);
  const [, csr] = await acme.crypto.createCsr({ commonName: cert.domains[0], altNames: cert.domains }, key);
  const chain = await client.auto({
    csr,
    email: config.email,
    termsOfServiceAgreed: true,
    challengePriority: ["http-01"],
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
      if (challenge.type !== "http-01") throw new Error(`challenge ${challenge.type} is not supported (HTTP-01 only)`);
      store.add(challenge.token, keyAuthorization);
    },
    challengeRemoveFn: async (_authz, challenge) => {
      store.remove(challenge.token);
    },
  });
  const leaf = new X509Certificate(chain);
  return { pem: `${chain.trim()}\n${key.trim()}\n`, notAfter: new Date(leaf.validTo) };
}

/** A short reason from an acme-client/axios error (the CA's problem detail when there is one). */
export function describeAcmeError(err: unknown): string {
  const e = err as { message?: string; response?: { data?: { detail?: string; type?: string } }; code?: string };
  const detail = e.response?.data?.detail;
  return detail ? `${detail}${e.response?.data?.type ? ` (${e.response.data.type})` : ""}` : e.message ?? String(err);
}
