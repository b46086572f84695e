// Which untranslated haproxy directives `tandem import` refuses to lose: those that protect
// (TLS, authentication, access rules, rate limits, https redirects), decide where requests go, or
// change what requests and responses carry. Everything else (logging, tuning, health-check
// details, process management) is an operational loss, reported as a warning.

import type { Impact } from "./notes.ts";

/** http-request / http-response actions whose loss is operational only. */
const QUIET_ACTIONS = new Set(["set-log-level", "capture", "set-var", "unset-var", "set-var-fmt", "add-acl", "del-acl", "set-map", "del-map", "set-mark", "set-tos", "set-nice", "set-priority-class", "set-priority-offset", "set-timeout", "wait-for-handshake", "wait-for-body", "disable-l7-retry", "early-hint", "set-bandwidth-limit"]);
const GUARD_ACTIONS = /^(auth|deny|allow|tarpit|reject|silent-drop|redirect|track-sc\d|sc-inc-gpc\d?|sc-set-gpt\d?|sc-add-gpc|normalize-uri)$/;
/** Bind words whose loss leaves TLS as safe as before. */
const COSMETIC_TLS = /^(no-tls-tickets|prefer-client-ciphers|strict-sni|npn|curves|ecdhe|alpn|no-ca-names|allow-0rtt|tls-ticket-keys)$/;
/** Server words whose loss changes what reaches the server or who it is. */
const SERVER_ROUTING = /^(redir|sni|crt|source|namespace|proto|ws)$/;
const COOKIE_COSMETIC = /^(maxidle|maxlife|attr|dynamic)$/;

/**
 * The impact of losing the `part` (default: all) of directive `words`, or undefined when the
 * loss is operational. A translator that knows better passes the impact itself.
 */
export function impactOf(words: readonly string[], part?: readonly string[]): Impact | undefined {
  const kw = words[0] === "no" && words[1] === "option" ? "option" : words[0];
  const p = part && part !== words ? part : undefined;
  switch (kw) {
    case "use_backend":
    case "default_backend":
    case "use-server":
    case "force-persist":
    case "ignore-persist":
    case "persist":
    case "dispatch":
    case "server-template":
    case "appsession":
    case "stick":
    case "reqsetbe":
    case "reqisetbe":
    case "monitor":
    case "mode":
      return "routing";
    case "balance":
      return p && /^random\(/.test(p[0] ?? "") ? undefined : "routing";
    case "cookie":
      return p && COOKIE_COSMETIC.test(p[0] ?? "") ? undefined : "routing";
    case "stick-table":
      return p && (p[0] === "peers" || p[0] === "nopurge") ? undefined : p?.[0] === "store" ? "security" : "routing";
    case "http-request":
    case "http-response":
    case "http-after-response": {
      const action = words[1] ?? "";
      if (QUIET_ACTIONS.has(action)) return undefined;
      if (GUARD_ACTIONS.test(action)) return "security";
      if (action === "use-service" || action === "set-dst" || action === "set-dst-port") return "routing";
      return "rewrite";
    }
    case "tcp-request":
      return words[1] === "inspect-delay" ? undefined : "security";
    case "tcp-response":
    case "block":
    case "rate-limit":
      return "security";
    case "redirect":
      return "security";
    case "errorloc":
    case "errorloc302":
    case "errorloc303":
    case "http-send-name-header":
      return "rewrite";
    case "filter":
      return words[1] === "compression" ? undefined : "security";
    case "option":
      return /^(originalto|http_proxy|transparent|http-buffer-request)$/.test(words[1] === "option" ? words[2] ?? "" : words[1] ?? "") ? "routing" : undefined;
    case "bind":
      if (!p) return "routing";
      if (COSMETIC_TLS.test(p[0] ?? "")) return undefined;
      return /^(crt|crt-list|ssl|verify|ca-file|crl-file|ssl-min-ver|ssl-max-ver|ciphers|ciphersuites|sigalgs|client-sigalgs|ca-sign-file|generate-certificates)$/.test(p[0] ?? "") ? "security" : undefined;
    case "server":
      // part: [server, NAME, word, ...] or the address.
      if (!p) return "routing";
      return SERVER_ROUTING.test(p[2] ?? "") ? (p[2] === "crt" || p[2] === "sni" ? "security" : "routing") : undefined;
    case "stats":
      return words[1] === "auth" || words[1] === "http-request" ? "security" : undefined;
  }
  if (/^(req|rsp)i?(rep|del|add)$/.test(kw)) return "rewrite";
  if (/^(req|rsp)i?(deny|allow|pass|tarpit)$/.test(kw)) return "security";
  return undefined;
}
