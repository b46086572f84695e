// ACME certificates carried over the pair link: a certificate issued on the VIP holder (acme.issued)
// goes to the peer, which installs it as if issued there; on connect each host lists what it has,
// and the one with the newer certificate sends it. The standby then serves the same certificate
// the moment it takes the VIP, with nothing copied by hand.

import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { installCertificate } from "../acme/deliver.ts";
import { acmeCertificateFile } from "../acme/paths.ts";
import { describeError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { CertMessage, CertsMessage } from "./messages.ts";

const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

export interface CertificateDeps {
  bus: EventBus;
  log: Logger;
  stateDir(): string;
  /** The acme.certificates names of the running config (only those are accepted). */
  names(): string[];
}

/** notAfter (wall ms) of a PEM's first certificate; throws on a PEM without one. */
function notAfterOf(pem: string): number {
  return new Date(new X509Certificate(pem).validTo).getTime();
}

export class CertificateCarrier {
  readonly #d: CertificateDeps;

  constructor(deps: CertificateDeps) {
    this.#d = deps;
  }

  /** The PEM of a configured certificate here, with its end of validity; undefined when there is none. */
  #local(name: string): { pem: string; notAfter: number } | undefined {
    try {
      const pem = readFileSync(acmeCertificateFile(this.#d.stateDir(), name), "utf8");
      return { pem, notAfter: notAfterOf(pem) };
    } catch {
      return undefined;
    }
  }

  /** What this host has, for the peer to compare. */
  inventory(): CertsMessage {
    const certs: CertsMessage["certs"] = [];
    for (const name of this.#d.names()) {
      const c = this.#local(name);
      if (c) certs.push({ name, notAfter: c.notAfter });
    }
    return { certs };
  }

  /** The certificates the peer lacks or has older than ours: what to send it. */
  newerThanPeer(peer: CertsMessage): CertMessage[] {
    const theirs = new Map(peer.certs.map((c) => [c.name, c.notAfter]));
    const out: CertMessage[] = [];
    for (const name of this.#d.names()) {
      const c = this.#local(name);
      if (c && c.notAfter > (theirs.get(name) ?? 0)) out.push({ name, pem: c.pem });
    }
    return out;
  }

  /**
   * Installs a certificate from the peer when it is one of ours by name, holds a certificate and
   * a key, and ends later than what this host has. Returns what happened, for the log.
   */
  received(m: CertMessage): string {
    if (!this.#d.names().includes(m.name)) return `ignored certificate "${m.name}" from the peer: not in acme.certificates here`;
    if (!PRIVATE_KEY.test(m.pem)) return `ignored certificate "${m.name}" from the peer: no private key in it`;
    let notAfter: number;
    try {
      notAfter = notAfterOf(m.pem);
    } catch (err) {
      return `ignored certificate "${m.name}" from the peer: ${describeError(err)}`;
    }
    const have = this.#local(m.name);
    if (have && have.notAfter >= notAfter) return `certificate "${m.name}" from the peer is not newer than ours`;
    try {
      const { file } = installCertificate(this.#d.bus, this.#d.stateDir(), m.name, m.pem);
      this.#d.log.info(`Certificate "${m.name}" from the peer installed in ${file} (valid until ${new Date(notAfter).toISOString()})`);
      return "installed";
    } catch (err) {
      this.#d.log.error(`Cannot install certificate "${m.name}" from the peer: ${describeError(err)}`);
      return "failed";
    }
  }
}
