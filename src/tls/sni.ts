// Which certificate answers a ClientHello: exact name, then wildcard, then the default (RFC 6066 §3, RFC 6125 §6.4.3).

import { createSecureContext } from "node:tls";
import type { SecureContext, SecureContextOptions } from "node:tls";
import type { LoadedCertificate } from "./certificate.ts";

/** The contexts of one name: one per key type it has a certificate for. */
interface NameEntry {
  ec?: SecureContext;
  other?: SecureContext;
}

/**
 * The certificates one bind serves, indexed by name. A name may have an ECDSA and an RSA
 * certificate side by side; select() is told whether the client takes ECDSA (client_hello.ts),
 * because Node copies only one certificate from a context chosen by SNI (nodejs/node#54235).
 * The default, for a client without SNI or with an unknown name, is the first certificate's group
 * in one context (OpenSSL picks by the client's signature algorithms there).
 */
export class SniSelector {
  readonly #exact = new Map<string, NameEntry>();
  readonly #wildcard = new Map<string, NameEntry>();
  readonly default: SecureContext | undefined;
  /** Certificates of the default context (the tls.Server's own). */
  readonly defaultCerts: LoadedCertificate[];
  /** Some name has certificates of two key types: the ClientHello must be read first. */
  readonly mixed: boolean;

  /** options: what every context gets besides the certificates (versions, ciphers, ticket keys). */
  constructor(certs: readonly LoadedCertificate[], options: SecureContextOptions) {
    const groups = new Map<string, LoadedCertificate[]>();
    for (const c of certs) {
      for (const name of c.names) {
        const g = groups.get(name) ?? [];
        // One certificate per key type and name: the first one written wins (haproxy's order).
        if (!g.some((x) => isEc(x) === isEc(c))) g.push(c);
        groups.set(name, g);
      }
    }
    const contexts = new Map<string, SecureContext>();
    const contextOf = (g: LoadedCertificate[]) => {
      const key = g.map((c) => c.fingerprint).join("+");
      let ctx = contexts.get(key);
      if (!ctx) {
        ctx = createSecureContext({ ...options, cert: g.map((c) => c.certPem), key: g.map((c) => c.keyPem) });
        contexts.set(key, ctx);
      }
      return ctx;
    };
    let mixed = false;
    for (const [name, g] of groups) {
      const ec = g.find(isEc);
      const other = g.find((c) => !isEc(c));
      if (ec && other) mixed = true;
      const entry: NameEntry = { ec: ec && contextOf([ec]), other: other && contextOf([other]) };
      if (name.startsWith("*.")) this.#wildcard.set(name.slice(2), entry);
      else this.#exact.set(name, entry);
    }
    this.mixed = mixed;
    const first = certs[0];
    this.defaultCerts = first === undefined ? [] : first.names.length ? groups.get(first.names[0])! : [first];
    this.default = first === undefined ? undefined : contextOf(this.defaultCerts);
  }

  /**
   * The context for a server name: an exact name, else a wildcard one label deep ("*.example.com"
   * covers "a.example.com", not "a.b.example.com" nor "example.com"), else the default. Of a
   * name's two certificates, the ECDSA one when the client takes ECDSA (the default: true).
   */
  select(servername: string, ecdsa = true): SecureContext | undefined {
    const name = servername.toLowerCase();
    let e = this.#exact.get(name);
    if (e === undefined) {
      const dot = name.indexOf(".");
      if (dot > 0) e = this.#wildcard.get(name.slice(dot + 1));
    }
    if (e === undefined) return this.default;
    return (ecdsa ? e.ec ?? e.other : e.other ?? e.ec)!;
  }
}

const isEc = (c: LoadedCertificate) => c.keyType === "ec";
