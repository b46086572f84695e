// TLS toward servers: the options of a server's tls: block, CA bundles read once per change, session resumption.

import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import type { Socket } from "node:net";
import { connect } from "node:tls";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import type { ServerTlsConfig } from "./config.ts";

const caCache = new Map<string, { stamp: string; pem: string }>();
/** The last TLS session of each server, to resume (one full handshake per server, not per connection). */
const sessions = new Map<string, Buffer>();

/** A CA bundle's PEM, re-read only when the file changed. Throws the read error. */
function caPem(file: string): string {
  const st = statSync(file);
  const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = caCache.get(file);
  if (hit && hit.stamp === stamp) return hit.pem;
  const pem = readFileSync(file, "utf8");
  caCache.set(file, { stamp, pem });
  return pem;
}

/**
 * node:tls options for a connection to host (an address or a name): SNI is tls.sni, else the host
 * when it is a name (RFC 6066 §3 forbids IP literals); the identity checked is the same name, or
 * the IP address against the certificate's IP entries. verify none: no check at all.
 */
export function clientOptions(t: ServerTlsConfig, host: string): ConnectionOptions {
  const servername = t.sni ?? (isIP(host) === 0 ? host : undefined);
  return {
    host,
    ...(servername !== undefined ? { servername } : {}),
    rejectUnauthorized: t.verify === "required",
    ...(t.caFile !== undefined ? { ca: caPem(t.caFile) } : {}),
    ...(t.alpn.length ? { ALPNProtocols: t.alpn } : {}),
    minVersion: t.minVersion,
    ...(t.ciphers !== undefined ? { ciphers: t.ciphers } : {}),
  };
}

/**
 * Starts TLS on a connected socket to host:port and calls back once: the TLS socket after a
 * verified handshake, or the reason it failed (the TLS socket is destroyed then). The caller's
 * connect timeout keeps running over the handshake.
 */
export function startClientTls(socket: Socket, t: ServerTlsConfig, host: string, port: number, cb: (err: Error | undefined, tls: TLSSocket | undefined) => void): TLSSocket | undefined {
  // A session resumes only under the same trust settings: a resumed session skips the
  // certificate check, so a server checked against another CA must not reuse it.
  const key = `${host}:${port}|${t.sni ?? ""}|${t.verify}|${t.caFile ?? ""}|${t.alpn.join(",")}`;
  let options: ConnectionOptions;
  try {
    options = clientOptions(t, host);
  } catch (err) {
    cb(new Error(`cannot read ca_file "${t.caFile}": ${(err as Error).message}`), undefined);
    return undefined;
  }
  let done = false;
  const s = connect({ ...options, socket, session: sessions.get(key) });
  s.on("session", (session: Buffer) => sessions.set(key, session));
  const fail = (err: Error) => {
    if (done) return;
    done = true;
    sessions.delete(key);
    s.destroy();
    cb(err, undefined);
  };
  s.once("error", fail);
  s.once("close", () => fail(new Error("closed during the TLS handshake")));
  s.once("secureConnect", () => {
    if (done) return;
    done = true;
    s.removeListener("error", fail);
    s.on("error", () => {}); // later errors surface as 'close' to the connection's owner
    cb(undefined, s);
  });
  return s;
}

/** A handshake failure in words: "certificate verify failed (self-signed certificate in chain)". */
export function describeTlsError(err: Error & { code?: string }): string {
  const code = err.code ?? "";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `certificate name mismatch: ${err.message}`;
  if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(code)) return `certificate verify failed (${err.message})`;
  return err.message;
}
