// What a session knows about its client's TLS connection (conditions, logs, X-Forwarded-Proto).

/** The facts of one terminated TLS connection; absent on plain connections. */
export interface TlsInfo {
  /** Server name the client asked for (SNI), lower-cased; "" when it sent none. */
  sni: string;
  /** The protocol ALPN settled on ("h2", "http/1.1"), "" when none. */
  alpn: string;
  /** "TLSv1.3", "TLSv1.2"... */
  version: string;
}

/** TLS counters and the certificates served, for stats (services.proxy.status().tls). */
export interface TlsStats {
  handshakes: number;
  /** Failed handshakes by reason (timeout, reset, protocol, cipher, not_tls, cert, other). */
  failures: Record<string, number>;
  /** HTTP/2 connections (ALPN h2). */
  h2: number;
  certificates: { name: string; file: string; keyType: string; notAfter: string; expiresIn: number }[];
}
