// Where a certificate goes once issued: written under state_dir, then announced (the pair link sends it to the peer).

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { EventBus } from "../core/events.ts";
import { acmeCertificateFile, acmeDir } from "./paths.ts";

/**
 * Installs a certificate PEM (chain then key) as state_dir/acme/NAME.pem, atomically (a reader sees
 * the old file or the new one), mode 0600, and emits `acme.installed` so the proxy serves it from
 * the next handshake. This is also what the peer runs when it receives a certificate (pair link).
 * Throws when the PEM holds no certificate or the file cannot be written.
 */
export function installCertificate(bus: EventBus, stateDir: string, name: string, pem: string): { file: string; notAfter: string } {
  const notAfter = new Date(new X509Certificate(pem).validTo).toISOString();
  const file = acmeCertificateFile(stateDir, name);
  mkdirSync(acmeDir(stateDir), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  renameSync(tmp, file);
  bus.emit("acme.installed", { name, file, notAfter });
  return { file, notAfter };
}

/**
 * The single place a newly issued certificate goes: installed here, then `acme.issued` carries it
 * (PEM included) to whoever subscribes: the pair link sends it to the peer, which calls
 * installCertificate with it. Until the pair link exists, docs/operations.md says how the peer
 * gets it (state_dir/acme/ copied over; the peer's ACME subsystem notices the new file).
 */
export function deliverIssued(bus: EventBus, stateDir: string, name: string, domains: string[], pem: string): void {
  const { file, notAfter } = installCertificate(bus, stateDir, name, pem);
  bus.emit("acme.issued", { name, domains, file, pem, notAfter });
}
