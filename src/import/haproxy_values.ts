// haproxy value forms → tandem ones: durations, bind address lists, server addresses.

import { isIP } from "node:net";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { parseBind } from "../core/address.ts";

/**
 * A haproxy time ("4000", "30s", "1m", "500ms"; bare numbers are milliseconds, as in tandem).
 * Returns the value to write (a bare number stays a number unless humanize asks for "5s"), or
 * undefined when haproxy itself would reject it.
 */
export function haDuration(text: string, humanize = false): number | string | undefined {
  const t = text.trim();
  if (!/^\d+(?:us|ms|s|m|h|d)?$/.test(t)) return undefined;
  const ms = parseDuration(t);
  if (ms === undefined) return undefined;
  if (/^\d+$/.test(t)) return humanize && ms >= 1000 && ms % 1000 === 0 ? formatDuration(ms) : ms;
  return t;
}

/** One host and the ports bound on it, in the order written. */
export interface BindGroup {
  host: string;
  ports: string[];
}

/**
 * Splits a haproxy bind address list ("192.168.8.248:110,192.168.8.248:135", ":80", "*:443",
 * "ipv4@0.0.0.0:80", ":::80") into tandem binds, one per host: "192.168.8.248:110,135".
 * Throws Error with a reason for forms tandem cannot listen on (unix sockets, fd@, port offsets).
 */
export function haBindList(text: string): string[] {
  const groups: BindGroup[] = [];
  for (const item of text.split(",")) {
    const { host, port } = splitAddress(item.trim(), "bind");
    if (port === undefined || port === "") throw new Error(`"${item}" has no port`);
    if (!/^\d+(-\d+)?$/.test(port)) throw new Error(`"${port}" is not a port or range`);
    const g = groups.find((x) => x.host === host);
    if (g) g.ports.push(port);
    else groups.push({ host, ports: [port] });
  }
  return groups.map((g) => {
    const h = isIP(g.host) === 6 ? `[${g.host}]` : g.host;
    const text = `${h}:${g.ports.join(",")}`;
    parseBind(text);
    return text;
  });
}

/**
 * Splits a haproxy address ("ip", "ip:port", "host:port", "ipv6@::1:80", "[::1]:80", ":80", "*:80")
 * into host and port text. Throws Error for unix sockets, abns@, fd@, sockpair@ and port offsets.
 */
export function splitAddress(text: string, what: "bind" | "server"): { host: string; port?: string } {
  let t = text;
  const family = /^(ipv4|ipv6|tcp|tcp4|tcp6|udp|udp4|udp6|quic4|quic6|unix|abns|abnsz|fd|sockpair|uxst|uxdg)@/.exec(t);
  if (family) {
    if (!/^(ipv4|ipv6|tcp|tcp4|tcp6)$/.test(family[1])) throw new Error(`${family[1]}@ addresses are not supported: tandem ${what === "bind" ? "listens" : "connects"} on TCP/IP only`);
    t = t.slice(family[0].length);
  }
  if (t.startsWith("/")) throw new Error("unix sockets are not supported: tandem listens and connects on TCP/IP only");
  let host: string;
  let port: string | undefined;
  if (t.startsWith("[")) {
    const end = t.indexOf("]");
    if (end < 0) throw new Error(`missing "]" in "${text}"`);
    host = t.slice(1, end);
    port = t[end + 1] === ":" ? t.slice(end + 2) : undefined;
  } else if ((t.match(/:/g) ?? []).length > 1) {
    // haproxy's IPv6 form: the last colon separates the port (":::80" = [::]:80).
    const last = t.lastIndexOf(":");
    host = t.slice(0, last);
    port = t.slice(last + 1);
    if (isIP(host) !== 6) {
      host = t;
      port = undefined;
    }
  } else {
    const colon = t.indexOf(":");
    host = colon < 0 ? t : t.slice(0, colon);
    port = colon < 0 ? undefined : t.slice(colon + 1);
  }
  if (host === "*") host = what === "bind" ? "" : host;
  if (port !== undefined && /^[+-]/.test(port)) throw new Error(`port offsets ("${port}") are not supported: write the port`);
  return { host, port };
}
