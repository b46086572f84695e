// Which certificate answers a ClientHello: exact name, then wildcard, then the default (RFC 6066 §3, RFC 6125 §6.4.3).

import { createSecureContext } from "node:tls";
import type { SecureContext, SecureContextOptions } from "node:tls";
import type { LoadedCertificate } from "./certificate.ts";

/**
 * The certificates one bind serves, indexed by name. A name may have one certificate per key type
 * (an ECDSA and an RSA one side by side, in one context: OpenSSL picks by the client's signature
 * algorithms). The default, for a client without SNI or with an unknown name, is the first
 * certificate's group (haproxy: the first certificate loaded).
 */
export class SniSelector {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>();
  readonly default: SecureContext | undefined;
  /** Certificates of the default context (for `tandem ctl` and tests). */
  readonly defaultCerts: LoadedCertificate[];

  /** options: what every context gets besides the certificates (versions, ciphers, ticket keys). */
  constructor(certs: readonly LoadedCertificate[], options: SecureContextOptions) {
    const groups = new Map<string, LoadedCertificate[]>();
    for (const c of certs) {
      for (const name of c.names) {
        const g = groups.get(name) ?? [];
        // One certificate per key type and name: the first one written wins (haproxy's order).
        if (!g.some((x) => x.keyType === c.keyType)) g.push(c);
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
    for (const [name, g] of groups) (name.startsWith("*.") ? this.#wildcard : this.#exact).set(name.startsWith("*.") ? name.slice(2) : name, contextOf(g));
    const first = certs[0];
    this.defaultCerts = first === undefined ? [] : first.names.length ? groups.get(first.names[0])! : [first];
    this.default = first === undefined ? undefined : contextOf(this.defaultCerts);
  }

  /**
   * The context for a server name: an exact name, else a wildcard one label deep ("*.example.com"
   * covers "a.example.com", not "a.b.example.com" nor "example.com"), else the default.
   */
  select(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf(".");
    if (dot > 0) {
      const wild = this.#wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.default;
  }
}
