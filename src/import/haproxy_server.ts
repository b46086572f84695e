// haproxy `server` and `default-server` lines → tandem servers (address, weight, check, backup...).

import { haDuration, splitAddress } from "./haproxy_values.ts";
import { SERVER_TLS_WORDS, serverTls } from "./haproxy_tls.ts";
import type { HaTlsDefaults } from "./haproxy_tls.ts";
import type { Impact } from "./notes.ts";

/** A server keyword tandem cannot carry, with why. */
export interface ServerIssue {
  words: string[];
  reason: string;
  /** What is lost (haproxy_impact.ts decides when absent). */
  impact?: Impact | null;
  /** From a default-server line: reported there, once. */
  inherited?: boolean;
}

export interface ServerResult {
  name: string;
  /** The entry for servers: in tandem.yaml; undefined when the address cannot be used at all. */
  server?: Record<string, unknown>;
  issues: ServerIssue[];
  /** `on-marked-down shutdown-sessions` was set (a backend-wide setting in tandem). */
  shutdownOnDown: boolean;
}

/** Keywords and how many arguments follow them; those not listed take none. */
const ARITY: Record<string, number> = {
  port: 1, addr: 1, inter: 1, fastinter: 1, downinter: 1, rise: 1, fall: 1, weight: 1, maxconn: 1,
  maxqueue: 1, minconn: 1, cookie: 1, slowstart: 1, verify: 1, sni: 1, "ca-file": 1, crt: 1,
  "check-sni": 1, resolvers: 1, "resolve-prefer": 1, "resolve-net": 1, "resolve-opts": 1, "init-addr": 1,
  "agent-port": 1, "agent-inter": 1, "agent-addr": 1, "agent-send": 1, observe: 1, "error-limit": 1,
  "on-error": 1, "on-marked-down": 1, "on-marked-up": 1, id: 1, track: 1, redir: 1, source: 1,
  "pool-max-conn": 1, "pool-purge-delay": 1, "pool-low-conn": 1, alpn: 1, proto: 1, "check-proto": 1,
  "check-alpn": 1, namespace: 1, "init-state": 1, ws: 1, ciphers: 1, ciphersuites: 1, "crl-file": 1,
  "ssl-min-ver": 1, "ssl-max-ver": 1, "max-reuse": 1, "tcp-ut": 1, "log-proto": 1, "set-proxy-v2-tlv-fmt": 1,
  "proxy-v2-options": 1, "health-check-port": 1, curves: 1, sigalgs: 1, "client-sigalgs": 1, shard: 1,
  "hash-key": 1, guid: 1, "log-bufsize": 1, verifyhost: 1,
};

const REASONS: Record<string, string> = {
  slowstart: "slow start is not supported: a server gets its full weight as soon as it is up",
  maxqueue: "per-server queue limits are not supported (the backend queue is bounded by timeout queue)",
  minconn: "dynamic maxconn (minconn/fullconn) is not supported; maxconn is a fixed limit",
  resolvers: "DNS resolution at run time is not supported: the address is resolved when tandem starts",
  "init-addr": "DNS resolution at run time is not supported",
  track: "a server tracking another server's health is not supported: give it its own check",
  "agent-check": "agent checks are not supported",
  observe: "passive health observation is not supported",
  "error-limit": "passive health observation is not supported",
  "on-error": "passive health observation is not supported",
  redir: "HTTP redirection to a server is not supported",
  source: "choosing the source address is not supported",
  id: "numeric server ids are not needed (servers are named)",
};

/** Splits server keywords into [keyword, ...args] groups. */
function groups(words: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < words.length; i++) {
    const n = ARITY[words[i]] ?? (words[i].startsWith("agent-") ? 1 : 0);
    out.push(words.slice(i, i + 1 + n));
    i += n;
  }
  return out;
}

const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

/**
 * Translates `server <name> <address> [keywords]` with the keywords of the `default-server` lines
 * in effect written first (a server's own keywords win). Returns the tandem entry and what did
 * not translate.
 */
export function translateServer(words: string[], defaultServer: string[], tlsDefaults?: HaTlsDefaults): ServerResult {
  const name = words[1] ?? "";
  const issues: ServerIssue[] = [];
  const result: ServerResult = { name, issues, shutdownOnDown: false };
  if (words.length < 3) {
    issues.push({ words: words.slice(0, 2), reason: "a server needs an address" });
    return result;
  }
  let host: string;
  let port: string | undefined;
  try {
    ({ host, port } = splitAddress(words[2], "server"));
  } catch (err) {
    issues.push({ words: words.slice(2, 3), reason: (err as Error).message, impact: "routing" });
    return result;
  }
  if (host === "" || host === "0.0.0.0" || host === "::") {
    issues.push({ words: words.slice(2, 3), reason: "without an address haproxy connects to the address the client connected to (transparent forwarding); tandem needs the server's address", impact: "routing" });
    return result;
  }
  const s: Record<string, unknown> = { address: host };
  if (port !== undefined && port !== "") {
    const p = int(port);
    if (p === undefined || p < 1 || p > 65535) issues.push({ words: [words[2]], reason: `"${port}" is not a port`, impact: "routing" });
    else s.port = p;
  }
  const check: Record<string, unknown> = {};
  let checkOn = false;
  const own = groups(words.slice(3));
  const all = [...groups(defaultServer).map((g) => ({ g, inherited: true })), ...own.map((g) => ({ g, inherited: false }))];
  const tlsGroups: string[][] = [];
  for (const { g, inherited } of all) {
    const [kw, arg] = g;
    if (SERVER_TLS_WORDS.has(kw)) {
      tlsGroups.push(g);
      continue;
    }
    const n = int(arg);
    const time = (key: string) => {
      const d = arg === undefined ? undefined : haDuration(arg, true);
      if (d === undefined) issues.push({ words: g, reason: `"${arg}" is not a time` });
      else check[key] = d;
    };
    switch (kw) {
      case "check":
        checkOn = true;
        break;
      case "no-check":
        checkOn = false;
        break;
      case "port":
        if (n === undefined || n < 1 || n > 65535) issues.push({ words: g, reason: `"${arg}" is not a port` });
        else check.port = n;
        break;
      case "addr":
        check.address = arg;
        break;
      case "inter":
        time("interval");
        break;
      case "fastinter":
        time("fastinterval");
        break;
      case "downinter":
        time("downinterval");
        break;
      case "rise":
      case "fall":
        if (n === undefined || n < 1 || n > 100) issues.push({ words: g, reason: `${kw} must be 1..100` });
        else check[kw] = n;
        break;
      case "weight":
        if (n === undefined || n > 256) issues.push({ words: g, reason: "weight must be 0..256" });
        else s.weight = n;
        break;
      case "maxconn":
        if (n === undefined || n < 1) issues.push({ words: g, reason: `"${arg}" is not a connection count` });
        else s.maxconn = n;
        break;
      case "backup":
        s.backup = true;
        break;
      case "no-backup":
        delete s.backup;
        break;
      case "disabled":
        s.disabled = true;
        break;
      case "enabled":
        delete s.disabled;
        break;
      case "send-proxy":
        s.send_proxy = true;
        break;
      case "send-proxy-v2":
        s.send_proxy = "v2";
        break;
      case "no-send-proxy":
      case "no-send-proxy-v2":
        delete s.send_proxy;
        break;
      case "init-state":
        if (arg === "up" || arg === "down") s.init_state = arg;
        else issues.push({ words: g, reason: `init-state ${arg} is not supported (up or down)` });
        break;
      case "cookie":
        if (arg) s.cookie = arg;
        else issues.push({ words: g, reason: "cookie needs a value" });
        break;
      case "on-marked-down":
        if (arg === "shutdown-sessions") result.shutdownOnDown = true;
        else issues.push({ words: g, reason: `on-marked-down ${arg} is not supported (only shutdown-sessions)` });
        break;
      default:
        if (!inherited || !issues.some((i) => i.words[0] === kw)) {
          issues.push({ words: g, reason: REASONS[kw] ?? (kw.startsWith("agent-") ? REASONS["agent-check"] : `the server keyword "${kw}" has no tandem equivalent`), inherited });
        }
    }
  }
  if (tlsGroups.length > 0) {
    const t = serverTls(tlsGroups, tlsDefaults);
    issues.push(...t.issues);
    if (t.tls !== undefined) s.tls = t.tls;
  }
  if (checkOn) s.check = Object.keys(check).length > 0 ? check : true;
  else if (Object.keys(check).length > 0) {
    const written = own.filter((g) => g[0] in { port: 1, addr: 1, inter: 1, fastinter: 1, downinter: 1, rise: 1, fall: 1 });
    if (written.length > 0) issues.push({ words: written.flat(), reason: "without `check` haproxy runs no health check, so these settings did nothing" });
  }
  result.server = s;
  return result;
}
