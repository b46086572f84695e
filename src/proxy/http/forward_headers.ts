// Header changes every forwarded message gets: hop-by-hop removal, X-Forwarded-*, Via.

import type { ClientInfo } from "../accepted_client.ts";
import type { FrontendConfig } from "../config_types.ts";
import { cidrContains } from "../../core/address.ts";
import type { HttpMessage } from "./message.ts";
import { list } from "./semantics.ts";

/**
 * Removes hop-by-hop fields (RFC 9110 §7.6.1): Connection and the fields it names, Keep-Alive,
 * Proxy-Connection, TE and Upgrade. Transfer-Encoding stays: tandem forwards chunked bodies as
 * they are, so the framing field goes with them. With `keepUpgrade` (a WebSocket handshake),
 * Upgrade and "Connection: upgrade" are kept for the next hop.
 */
export function stripHopByHop(m: HttpMessage, keepUpgrade: boolean): void {
  const l = m.lower;
  let found = false;
  for (let i = 0; i < l.length; i++) {
    const n = l[i];
    if (n === "connection" || n === "keep-alive" || n === "proxy-connection" || n === "te" || n === "upgrade") {
      found = true;
      break;
    }
  }
  if (!found && m.connOther === undefined) return;
  m.delete("connection");
  m.delete("keep-alive");
  m.delete("proxy-connection");
  m.delete("te");
  if (m.connOther) for (const n of m.connOther) if (n !== "transfer-encoding" && n !== "host" && n !== "content-length") m.delete(n);
  if (keepUpgrade) {
    m.add("Connection", "upgrade");
  } else m.delete("upgrade");
}

/**
 * Adds X-Forwarded-For (one more field with the client address, as haproxy's `option
 * forwardfor`), and sets X-Forwarded-Proto and X-Forwarded-Host (the Host the client sent).
 */
export function addForwarded(m: HttpMessage, src: string, proto: string, o: { proto: boolean; host: boolean } = { proto: true, host: true }): void {
  m.add("X-Forwarded-For", src);
  if (o.proto) m.set("X-Forwarded-Proto", proto);
  const host = m.get("host");
  if (o.host && host !== undefined) m.set("X-Forwarded-Host", host);
}

/** Appends this hop to Via (RFC 9110 §7.6.3): "1.1 tandem" or "1.0 tandem" by the received version. */
export function addVia(m: HttpMessage, minor: number): void {
  const hop = minor === 0 ? "1.0 tandem" : "1.1 tandem";
  const i = m.indexOf("via");
  if (i < 0) m.add("Via", hop);
  else m.setValue(i, m.values[i] + ", " + hop);
}

/**
 * Everything a request head gets on its way to a server: hop-by-hop fields out (Upgrade kept
 * for a handshake), X-Forwarded-* (forwardfor), Via, `Connection: close` for http_reuse never,
 * and a Host for an HTTP/1.0 request without one (it goes out as HTTP/1.1, which requires Host,
 * RFC 9112 §3.2): the address the client connected to.
 */
export function prepareForward(req: HttpMessage, o: { upgrade: boolean; forwardfor: boolean; forwarded?: FrontendConfig["forwarded"]; via: boolean; reuse: "never" | "safe"; client: ClientInfo; proto: string }): void {
  stripHopByHop(req, o.upgrade);
  if (o.forwardfor) {
    const src = o.client.srcAddress;
    // haproxy's `option forwardfor except NET`: no field for those clients.
    if (!o.forwarded?.except.some((c) => cidrContains(c, src))) addForwarded(req, src, o.proto, o.forwarded);
  }
  if (o.via) addVia(req, req.minor);
  if (o.reuse === "never" && !o.upgrade) req.add("Connection", "close");
  if (req.minor === 0 && req.host === "" && req.indexOf("host") < 0) {
    const c = o.client;
    req.add("Host", c.dstAddress.includes(":") ? `[${c.dstAddress}]:${c.dstPort}` : `${c.dstAddress}:${c.dstPort}`);
  }
}

/** The protocol names of an Upgrade value (RFC 9110 §7.8: protocol-name ["/" protocol-version]), lower-cased. */
function protocolNames(upgrade: string): string[] {
  return list(upgrade).map((p) => {
    const slash = p.indexOf("/");
    return (slash < 0 ? p : p.slice(0, slash)).toLowerCase();
  });
}

/**
 * Whether a request asks to switch protocols (Connection: upgrade and an Upgrade field, RFC 9110
 * §7.8), after taking "h2c" out of it unless `allowH2c`: RFC 9113 §3.1 retired the h2c upgrade,
 * and a server that accepts it would carry every later byte past the proxy's rules (h2c
 * smuggling). The h2c token and HTTP2-Settings (RFC 7540 §3.2.1) are removed from m; the server
 * then answers the request as HTTP/1.1, which the upgrade mechanism allows.
 */
export function upgradeRequested(m: HttpMessage, allowH2c: boolean): boolean {
  if (m.upgrade === "") return false;
  if (!allowH2c) {
    const offered = list(m.upgrade);
    const names = protocolNames(m.upgrade);
    const kept = offered.filter((_, i) => names[i] !== "h2c");
    if (kept.length !== offered.length) {
      m.delete("http2-settings");
      m.upgrade = kept.join(", ");
      if (kept.length === 0) m.delete("upgrade");
      else m.set("Upgrade", m.upgrade);
    }
  }
  return m.connUpgrade && m.upgrade !== "";
}

/**
 * A 101 response switches to protocols the request offered, and names them (RFC 9110 §7.8: the
 * server MUST send Upgrade, and MUST NOT switch to a protocol the client did not ask for).
 */
export function upgradeAccepted(req: HttpMessage, res: HttpMessage): boolean {
  const offered = new Set(protocolNames(req.upgrade));
  const chosen = protocolNames(res.upgrade);
  return chosen.length > 0 && chosen.every((p) => offered.has(p));
}
