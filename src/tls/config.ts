// The tls: keys of binds and servers: schema, defaults and normalization (the TLS subsystem's config section).

import { resolve } from "node:path";
import { z } from "zod";
import type { Diagnostics, Path } from "../config/diagnostics.ts";
import { stringList } from "../config/schema_types.ts";
import { parseDuration } from "../core/duration.ts";

const obj = z.strictObject;

export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];
/** What ALPN may offer to clients: tandem speaks these two. */
const ALPN = ["h2", "http/1.1"] as const;

/** `bind: [{ address, tls: {...} }]`: TLS termination on a listener. */
export const bindTlsSchema = obj({
  crt: stringList.optional(),
  acme: stringList.optional(),
  alpn: z.union([z.enum(ALPN), z.array(z.enum(ALPN))]).optional(),
  min_version: z.enum(TLS_VERSIONS).optional(),
  max_version: z.enum(TLS_VERSIONS).optional(),
  ciphers: z.string().optional(),
  ciphersuites: z.string().optional(),
  /** Seconds a client has to finish its handshake; default: the frontend's timeout client. */
  handshake_timeout: z.union([z.number(), z.string()]).optional(),
});

/** `servers: { x: { tls: {...} } }`: TLS toward a server (and its health checks). */
export const serverTlsSchema = z.union([
  z.boolean(),
  obj({
    verify: z.enum(["required", "none"]).optional(),
    ca_file: z.string().optional(),
    sni: z.string().optional(),
    alpn: z.union([z.string(), z.array(z.string())]).optional(),
    min_version: z.enum(TLS_VERSIONS).optional(),
    ciphers: z.string().optional(),
  }),
]);

export type BindTlsInput = z.output<typeof bindTlsSchema>;
export type ServerTlsInput = z.output<typeof serverTlsSchema>;

/** TLS on one bind, resolved: absolute file paths, defaults applied. */
export interface BindTlsConfig {
  /** PEM files or directories of them (haproxy's `crt`), absolute. */
  crt: string[];
  /** Names of acme.certificates entries whose certificates this bind serves. */
  acme: string[];
  alpn: string[];
  minVersion: TlsVersion;
  maxVersion?: TlsVersion;
  /** TLS 1.2 cipher list and TLS 1.3 suites (OpenSSL syntax), undefined = Node's defaults. */
  ciphers?: string;
  ciphersuites?: string;
  /** ms; undefined = the frontend's `timeout client`. */
  handshakeTimeout?: number;
}

/** TLS toward one server, resolved. */
export interface ServerTlsConfig {
  verify: "required" | "none";
  /** Absolute path of the CA bundle; undefined = Node's bundled roots. */
  caFile?: string;
  /** Server name sent (SNI) and verified; default: the server address when it is a name. */
  sni?: string;
  alpn: string[];
  minVersion: TlsVersion;
  ciphers?: string;
}

/** Resolves a bind's tls: block (acme names are checked against acme.certificates by the acme section). */
export function normalizeBindTls(t: BindTlsInput, path: Path, diag: Diagnostics): BindTlsConfig {
  const crt = (t.crt ?? []).map((f) => resolve(f));
  const acme = t.acme ?? [];
  if (crt.length === 0 && acme.length === 0) diag.error(path, "a tls: bind needs certificates", "add crt: [FILE_OR_DIR] or acme: [NAME]", true);
  const alpn = t.alpn === undefined ? ["h2", "http/1.1"] : Array.isArray(t.alpn) ? t.alpn : [t.alpn];
  const minVersion = t.min_version ?? "TLSv1.2";
  if (t.max_version !== undefined && TLS_VERSIONS.indexOf(t.max_version) < TLS_VERSIONS.indexOf(minVersion)) {
    diag.error([...path, "max_version"], `max_version ${t.max_version} is below min_version ${minVersion}`);
  }
  let handshakeTimeout: number | undefined;
  if (t.handshake_timeout !== undefined) {
    handshakeTimeout = parseDuration(t.handshake_timeout);
    if (handshakeTimeout === undefined) diag.error([...path, "handshake_timeout"], `"${t.handshake_timeout}" is not a duration`, "write 5s");
  }
  return { crt, acme, alpn, minVersion, maxVersion: t.max_version, ciphers: t.ciphers, ciphersuites: t.ciphersuites, handshakeTimeout };
}

/** Resolves a server's tls: (true = verify against the system roots). */
export function normalizeServerTls(t: ServerTlsInput | undefined): ServerTlsConfig | undefined {
  if (t === undefined || t === false) return undefined;
  const o = t === true ? {} : t;
  const alpn = o.alpn === undefined ? [] : Array.isArray(o.alpn) ? o.alpn : [o.alpn];
  return { verify: o.verify ?? "required", caFile: o.ca_file === undefined ? undefined : resolve(o.ca_file), sni: o.sni, alpn, minVersion: o.min_version ?? "TLSv1.2", ciphers: o.ciphers };
}

/** The OpenSSL cipher string Node takes (TLS 1.2 ciphers and TLS 1.3 suites in one list). */
export function cipherString(c: { ciphers?: string; ciphersuites?: string }): string | undefined {
  const parts = [c.ciphersuites, c.ciphers].filter((x): x is string => x !== undefined && x !== "");
  return parts.length ? parts.join(":") : undefined;
}
