// haproxy's TLS keywords → tandem's tls: keys: `bind ... ssl crt`, `server ... ssl verify ca-file`, ssl-default-bind-*.

import { isAbsolute, join } from "node:path";

/** What the global section says about TLS, applied to every bind and server line after it. */
export interface HaTlsDefaults {
  crtBase?: string;
  caBase?: string;
  bind: { ciphers?: string; ciphersuites?: string; minVersion?: string };
  server: { ciphers?: string; minVersion?: string };
}

/** A word group that did not translate. */
export interface TlsIssue {
  words: string[];
  reason: string;
}

const VERSIONS: Record<string, string> = { "SSLv3": "TLSv1", "TLSv1.0": "TLSv1", TLSv10: "TLSv1", TLSv1: "TLSv1", "TLSv1.1": "TLSv1.1", "TLSv1.2": "TLSv1.2", "TLSv1.3": "TLSv1.3" };

/** no-sslv3/no-tlsv10/no-tlsv11/no-tlsv12 → the lowest version still allowed. */
function minFromNo(flags: Set<string>): string | undefined {
  if (flags.has("no-tlsv12")) return "TLSv1.3";
  if (flags.has("no-tlsv11")) return "TLSv1.2";
  if (flags.has("no-tlsv10")) return "TLSv1.1";
  return undefined;
}

/** Options (ssl-default-bind-options / ssl-default-server-options, or bind words) → min version and issues. */
function options(words: string[]): { minVersion?: string; issues: TlsIssue[] } {
  const issues: TlsIssue[] = [];
  const flags = new Set<string>();
  let minVersion: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === "ssl-min-ver") {
      const v = VERSIONS[words[++i] ?? ""];
      if (v) minVersion = v;
      else issues.push({ words: [w, words[i] ?? ""], reason: "not a TLS version tandem knows" });
    } else if (/^no-(sslv3|tlsv1\d)$/.test(w)) flags.add(w);
    else if (w === "ssl-max-ver") {
      issues.push({ words: [w, words[++i] ?? ""], reason: "a maximum version is written per bind (tls.max_version)" });
    } else if (w === "no-tls-tickets") issues.push({ words: [w], reason: "tandem always issues TLS session tickets (one key per process)" });
    else if (w === "prefer-client-ciphers") issues.push({ words: [w], reason: "tandem uses the server's cipher order" });
    else issues.push({ words: [w], reason: `the TLS option "${w}" has no tandem equivalent` });
  }
  return { minVersion: minVersion ?? minFromNo(flags), issues };
}

/**
 * A global directive about TLS: returns undefined when kw is not one, else the issues (empty: it
 * was carried over into defaults).
 */
export function globalTls(kw: string, args: string[], d: HaTlsDefaults): TlsIssue[] | undefined {
  switch (kw) {
    case "crt-base":
      d.crtBase = args[0];
      return [];
    case "ca-base":
      d.caBase = args[0];
      return [];
    case "ssl-default-bind-ciphers":
      d.bind.ciphers = args.join(" ");
      return [];
    case "ssl-default-bind-ciphersuites":
      d.bind.ciphersuites = args.join(" ");
      return [];
    case "ssl-default-server-ciphers":
      d.server.ciphers = args.join(" ");
      return [];
    case "ssl-default-bind-options":
    case "ssl-default-server-options": {
      const o = options(args);
      if (o.minVersion) (kw === "ssl-default-bind-options" ? d.bind : d.server).minVersion = o.minVersion;
      return o.issues;
    }
    case "ssl-default-server-ciphersuites":
      return [{ words: [kw, ...args], reason: "tandem uses Node's TLS 1.3 suites toward servers" }];
    case "ssl-server-verify":
      return args[0] === "required" ? [] : [{ words: [kw, ...args], reason: "write tls: { verify: none } on each server instead" }];
    default:
      return kw.startsWith("ssl-") || kw === "tune.ssl.default-dh-param" ? [{ words: [kw, ...args], reason: kw.includes("dh-param") ? "tandem's TLS uses ECDHE (no DH parameters)" : "this TLS setting has no tandem equivalent" }] : undefined;
  }
}

const base = (dir: string | undefined, file: string) => (dir && !isAbsolute(file) ? join(dir, file) : file);

/**
 * The TLS words of a bind line (ssl, crt, alpn, ciphers...) → the bind's tls: block. Without
 * `ssl` there is no TLS (crt alone does nothing in haproxy either).
 */
export function bindTls(words: string[], d: HaTlsDefaults | undefined): { tls?: Record<string, unknown>; issues: TlsIssue[] } {
  const issues: TlsIssue[] = [];
  const crt: string[] = [];
  const tls: Record<string, unknown> = {};
  const flags: string[] = [];
  let ssl = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const arg = words[i + 1];
    if (w === "ssl") ssl = true;
    else if (w === "crt") {
      i++;
      if (arg?.startsWith("@")) issues.push({ words: [w, arg], reason: "crt-store references are not supported: give the PEM file" });
      else if (arg) crt.push(base(d?.crtBase, arg));
    } else if (w === "alpn") {
      i++;
      const list = (arg ?? "").split(",").filter((p) => p === "h2" || p === "http/1.1");
      if (list.length) tls.alpn = list;
      if (list.length !== (arg ?? "").split(",").length) issues.push({ words: [w, arg ?? ""], reason: "tandem offers h2 and http/1.1 only" });
    } else if (w === "ciphers") tls.ciphers = words[++i];
    else if (w === "ciphersuites") tls.ciphersuites = words[++i];
    else if (w === "ssl-min-ver" || w === "ssl-max-ver") {
      i++;
      const v = VERSIONS[arg ?? ""];
      if (v) tls[w === "ssl-min-ver" ? "min_version" : "max_version"] = v;
      else issues.push({ words: [w, arg ?? ""], reason: "not a TLS version tandem knows" });
    } else if (/^no-(sslv3|tlsv1\d)$/.test(w) || w === "no-tls-tickets" || w === "prefer-client-ciphers") flags.push(w);
    else if (w === "crt-list") issues.push({ words: [w, words[++i] ?? ""], reason: "crt-list files are not supported: list the PEM files (or a directory) in tls.crt" });
    else if (w === "verify" || w === "ca-file" || w === "crl-file") issues.push({ words: [w, words[++i] ?? ""], reason: "client certificates are not supported" });
    else if (w === "strict-sni") issues.push({ words: [w], reason: "tandem serves the first certificate to unknown names (no strict-sni)" });
    else if (/^(npn|curves|ecdhe|sigalgs|client-sigalgs|ca-sign-file)$/.test(w)) issues.push({ words: [w, words[++i] ?? ""], reason: "this TLS setting has no tandem equivalent" });
    else issues.push({ words: [w], reason: "this TLS setting has no tandem equivalent" });
  }
  if (!ssl) {
    if (crt.length) issues.push({ words: ["crt", ...crt], reason: "crt without ssl: haproxy does not terminate TLS here either" });
    return { issues };
  }
  if (crt.length === 0) {
    issues.push({ words: ["ssl"], reason: "ssl without crt: add tls.crt (or tls.acme)" });
    return { issues };
  }
  const o = options(flags);
  issues.push(...o.issues);
  const minVersion = (tls.min_version as string | undefined) ?? o.minVersion ?? d?.bind.minVersion;
  const out: Record<string, unknown> = { crt };
  if (tls.alpn) out.alpn = tls.alpn;
  if (minVersion && minVersion !== "TLSv1.2") out.min_version = minVersion;
  if (tls.max_version) out.max_version = tls.max_version;
  const ciphers = (tls.ciphers as string | undefined) ?? d?.bind.ciphers;
  const suites = (tls.ciphersuites as string | undefined) ?? d?.bind.ciphersuites;
  if (ciphers) out.ciphers = ciphers;
  if (suites) out.ciphersuites = suites;
  return { tls: out, issues };
}

/** Server keywords about TLS and their argument counts. */
export const SERVER_TLS_WORDS = new Set(["ssl", "no-ssl", "verify", "ca-file", "sni", "alpn", "check-ssl", "no-check-ssl", "crt", "ciphers", "ciphersuites", "ssl-min-ver", "ssl-max-ver", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tls-tickets", "check-sni", "check-alpn", "verifyhost", "crl-file", "force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12", "force-tlsv13"]);

/** The TLS keyword groups of a server line → its tls: value (undefined: no `ssl`). */
export function serverTls(groups: string[][], d: HaTlsDefaults | undefined): { tls?: Record<string, unknown> | true; issues: TlsIssue[] } {
  const issues: TlsIssue[] = [];
  const t: Record<string, unknown> = {};
  let ssl = false;
  for (const g of groups) {
    const [kw, arg] = g;
    switch (kw) {
      case "ssl":
        ssl = true;
        break;
      case "no-ssl":
        ssl = false;
        break;
      case "verify":
        if (arg === "none" || arg === "required") t.verify = arg;
        else issues.push({ words: g, reason: "verify is none or required" });
        break;
      case "ca-file":
        if (arg === "@system-ca") break;
        t.ca_file = base(d?.caBase, arg ?? "");
        break;
      case "sni": {
        const m = /^str\(([^)]+)\)$/.exec(arg ?? "");
        if (m) t.sni = m[1];
        else issues.push({ words: g, reason: "tandem sends a fixed server name (tls.sni) or the server's address, not an expression" });
        break;
      }
      case "verifyhost":
        if (arg) t.sni = t.sni ?? arg;
        break;
      case "alpn":
        t.alpn = (arg ?? "").split(",");
        break;
      case "ciphers":
        t.ciphers = arg;
        break;
      case "ssl-min-ver":
        if (VERSIONS[arg ?? ""]) t.min_version = VERSIONS[arg!];
        break;
      case "check-ssl":
      case "check-sni":
        break; // checks of a TLS server speak TLS
      default:
        issues.push({ words: g, reason: kw === "crt" ? "client certificates toward servers are not supported" : "this TLS setting has no tandem equivalent" });
    }
  }
  if (!ssl) return { issues: groups.some((g) => g[0] === "verify" || g[0] === "ca-file") ? [...issues, { words: groups.flat(), reason: "TLS settings without ssl do nothing" }] : issues };
  if (t.ciphers === undefined && d?.server.ciphers) t.ciphers = d.server.ciphers;
  if (t.min_version === undefined && d?.server.minVersion && d.server.minVersion !== "TLSv1.2") t.min_version = d.server.minVersion;
  return { tls: Object.keys(t).length ? t : true, issues };
}
