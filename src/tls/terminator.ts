// TLS termination for binds with tls:: handshake (SNI, ALPN), then the session, or HTTP/2 when ALPN says h2.

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { createServer } from "node:tls";
import type { SecureContext, SecureContextOptions, Server as TlsServer, TLSSocket } from "node:tls";
import type { BaseConfig } from "../config/types.ts";
import type { FrontendConfig, ListenAddress, ProxyConfig } from "../proxy/config_types.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { Conn } from "../runtime/transport.ts";
import type { SessionContext, SessionHandler } from "../proxy/session.ts";
import { acmeCertificateFile } from "../acme/paths.ts";
import type { LoadedCertificate } from "./certificate.ts";
import { certificateCache } from "./cert_store.ts";
import type { CertificateError } from "./certificate.ts";
import { cipherString } from "./config.ts";
import type { BindTlsConfig } from "./config.ts";
import { dueWarnings, isoDay } from "./expiry.ts";
import type { TlsInfo, TlsStats } from "./info.ts";
import { SniSelector } from "./sni.ts";
import { helloFacts } from "./client_hello.ts";

/** Runs an HTTP/2 connection (src/proxy/h2/); called with the TLS socket in ctx.socket. */
export type H2Runner = (ctx: SessionContext, done: () => void) => void;

/** Counters for stats and /metrics. */

/** One TLS bind: a tls.Server used as the handshake engine (never listening) and its certificates. */
interface Endpoint {
  server: TlsServer;
  selector: SniSelector;
}

interface Pending {
  ctx: SessionContext;
  done: (socket: Conn) => void;
  inner: SessionHandler;
}

/** One ticket key per process: sessions resume across the contexts of every bind and reload. */
const TICKET_KEYS = randomBytes(48);
/** On a raw socket: whether its ClientHello takes ECDSA (read before the handshake where it matters). */
const kEcdsa = Symbol("tandem.ecdsa");
type RawSocket = Socket & { [kEcdsa]?: boolean };
/** A ClientHello larger than this is not waited for (a TLS record holds at most 16 KiB). */
const HELLO_MAX = 16_384 + 5;

/** A reason word for a handshake that failed (node/OpenSSL error codes → stats labels). */
export function failureReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? "";
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT") return "timeout";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (code === "ERR_SSL_HTTP_REQUEST" || code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") return "not_tls";
  if (/VERSION|PROTOCOL|UNEXPECTED|RECORD|DECODE|LENGTH|BAD_|ALERT/.test(code)) return "protocol";
  if (/CIPHER/.test(code)) return "cipher";
  if (/CERTIFICATE|SNI|SERVERNAME/.test(code) || /no suitable signature|certificate/i.test(err.message)) return "cert";
  return "other";
}

/**
 * Owns the TLS side of every bind with tls:. load() (at start and on every reload) re-reads the
 * certificate files that changed and builds new handshake engines; connections already running
 * keep theirs. wrap() turns a frontend's session handler into one that terminates TLS first on
 * TLS binds and passes plain binds through untouched.
 */
export class TlsTerminator {
  readonly #log: Logger;
  readonly #bus: EventBus;
  readonly #clock: Clock;
  #endpoints = new WeakMap<ListenAddress, Endpoint>();
  #pending = new Map<Socket, Pending>();
  #certs: LoadedCertificate[] = [];
  #warned = new Map<string, number>();
  #watch: TimerHandle | undefined;
  #h2: H2Runner | undefined;
  readonly stats: Omit<TlsStats, "certificates"> = { handshakes: 0, failures: {}, h2: 0 };

  constructor(deps: { log: Logger; bus: EventBus; clock: Clock; h2?: H2Runner }) {
    this.#log = deps.log;
    this.#bus = deps.bus;
    this.#clock = deps.clock;
    this.#h2 = deps.h2;
  }

  /**
   * Builds the handshake engines of config's TLS binds. Returns the certificate problems found
   * (a bind keeps the certificates that loaded); the caller decides whether they are fatal.
   */
  load(config: BaseConfig & ProxyConfig): CertificateError[] {
    const errors: CertificateError[] = [];
    const served = new Map<string, LoadedCertificate>();
    for (const f of config.frontends) {
      for (const bind of f.binds) {
        if (!bind.tls) continue;
        const { certs, errors: errs } = certificateCache.loadAll(bind.tls.crt);
        errors.push(...errs);
        for (const name of bind.tls.acme) {
          const file = acmeCertificateFile(config.global.stateDir, name);
          const r = certificateCache.load(file);
          if ("leaf" in r) certs.push(r);
          else this.#log.info(`No certificate for ACME "${name}" yet (${file}): it is served once issued`);
        }
        for (const c of certs) served.set(c.fingerprint, c);
        this.#endpoints.set(bind, this.#endpoint(f, bind, bind.tls, certs));
      }
    }
    this.#certs = [...served.values()];
    this.#bus.emit("tls.loaded", { certificates: this.#certs.length, errors: errors.map((e) => e.message) });
    this.#checkExpiry();
    return errors;
  }

  /** Certificates served now, for stats. */
  status(): TlsStats {
    const now = this.#clock.wallNow();
    return {
      ...this.stats,
      failures: { ...this.stats.failures },
      certificates: this.#certs.map((c) => ({ name: c.names[0] ?? "", file: c.file, keyType: c.keyType, notAfter: c.notAfter.toISOString(), expiresIn: Math.round((c.notAfter.getTime() - now) / 1000) })),
    };
  }

  /** Warns (tls.cert_expiring) about certificates near their end, now and every 30 s after. */
  startWatch(): void {
    this.#watch?.cancel();
    const tick = () => {
      this.#checkExpiry();
      this.#watch = this.#clock.setTimeout(tick, 30_000);
    };
    this.#watch = this.#clock.setTimeout(tick, 30_000);
  }

  stopWatch(): void {
    this.#watch?.cancel();
    this.#watch = undefined;
  }

  /**
   * The handler a frontend runs: on a TLS bind, the handshake first, then `inner` with the TLS
   * socket (ctx.tls set), or HTTP/2 when ALPN chose h2; elsewhere `inner` as it is.
   */
  wrap(inner: SessionHandler): SessionHandler {
    const run = (ctx: SessionContext, done: (socket: Conn) => void): void => {
      const ep = ctx.bind?.tls ? this.#endpoints.get(ctx.bind) : undefined;
      if (ep === undefined) {
        if (inner.run) return inner.run(ctx, done);
        void inner(ctx).then(() => done(ctx.socket));
        return;
      }
      // TLS needs a net.Socket under it: TLS binds accept through the node:net transport.
      const raw = ctx.socket as unknown as RawSocket;
      // A FIN during the handshake is the end of it (with allowHalfOpen the TLS socket would wait
      // for the handshake timeout); sessions get half-close back once the handshake is done.
      raw.allowHalfOpen = false;
      this.#pending.set(raw, { ctx, done, inner });
      raw.once("close", () => {
        // Closed during the handshake (a failed one, or the grace period's killAll).
        if (this.#pending.delete(raw)) done(raw as unknown as Conn);
      });
      if (ep.selector.mixed) this.#peekHello(raw, ep, ctx);
      else ep.server.emit("connection", raw);
    };
    const handler = ((ctx: SessionContext) => new Promise<void>((resolve) => run(ctx, () => resolve()))) as SessionHandler;
    handler.run = run;
    handler.readsChunks = inner.readsChunks;
    handler.prepare = inner.prepare;
    return handler;
  }

  /**
   * Reads the ClientHello before handing the connection to the TLS engine, so that SNI picks the
   * ECDSA or the RSA certificate of a name by what the client takes (SniSelector). The bytes are
   * put back; the handshake timeout covers the wait.
   */
  #peekHello(raw: RawSocket, ep: Endpoint, ctx: SessionContext): void {
    let buf: Buffer = Buffer.alloc(0);
    const t = ctx.bind?.tls?.handshakeTimeout ?? (ctx.frontend.timeouts.client || 10_000);
    const timer = this.#clock.setTimeout(() => {
      this.stats.failures.timeout = (this.stats.failures.timeout ?? 0) + 1;
      raw.destroy();
    }, t);
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const facts = helloFacts(buf);
      if (!facts.complete && buf.length < HELLO_MAX) return;
      timer.cancel();
      raw.off("data", onData);
      raw.pause();
      raw[kEcdsa] = facts.ecdsa ?? true;
      raw.unshift(buf);
      ep.server.emit("connection", raw);
    };
    raw.on("data", onData);
    raw.once("close", () => timer.cancel());
    raw.resume();
  }

  #endpoint(f: FrontendConfig, bind: ListenAddress, t: BindTlsConfig, certs: LoadedCertificate[]): Endpoint {
    const options: SecureContextOptions = {
      minVersion: t.minVersion,
      ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
      ...(cipherString(t) ? { ciphers: cipherString(t) } : {}),
      // Ciphers in the server's order (haproxy's default; prefer-client-ciphers turns it off).
      honorCipherOrder: true,
      ticketKeys: TICKET_KEYS,
      sessionIdContext: "tandem",
    };
    const selector = new SniSelector(certs, options);
    const defaults = selector.defaultCerts;
    // ALPN only where tandem speaks the protocols it names (mode http); a tcp bind offers none.
    const alpn = f.mode === "http" ? t.alpn : [];
    const server = createServer({
      ...options,
      ...(defaults.length ? { cert: defaults.map((c) => c.certPem), key: defaults.map((c) => c.keyPem) } : {}),
      ...(alpn.length ? { ALPNProtocols: alpn } : {}),
      handshakeTimeout: t.handshakeTimeout ?? (f.timeouts.client || 10_000),
      // Called by the TLSSocket (this): its raw socket carries what the ClientHello said.
      SNICallback: function (this: { _parent?: RawSocket }, name: string, cb: (err: Error | null, ctx?: SecureContext) => void) {
        cb(null, selector.select(name, this._parent?.[kEcdsa] ?? true));
      },
    });
    server.on("secureConnection", (socket: TLSSocket) => this.#secure(socket));
    server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => this.#failed(err, socket, bind));
    return { server, selector };
  }

  #secure(socket: TLSSocket): void {
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const p = raw ? this.#pending.get(raw) : undefined;
    if (!raw || !p) return void socket.destroy();
    this.#pending.delete(raw);
    this.stats.handshakes++;
    socket.on("error", ignore);
    socket.allowHalfOpen = true;
    const info: TlsInfo = {
      sni: typeof socket.servername === "string" ? socket.servername.toLowerCase() : "",
      alpn: typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : "",
      version: socket.getProtocol() ?? "",
    };
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      p.done(raw as unknown as Conn);
    };
    const ctx: SessionContext = { ...p.ctx, socket: socket as unknown as Conn, tls: info };
    try {
      if (info.alpn === "h2" && this.#h2 && p.ctx.frontend.mode === "http") {
        this.stats.h2++;
        this.#h2(ctx, done);
      } else if (p.inner.run) p.inner.run(ctx, done);
      else void p.inner(ctx).then(done);
    } catch (err) {
      this.#log.error(`Session of "${p.ctx.frontend.name}" failed: ${(err as Error).message}`);
      socket.destroy();
      done();
    }
  }

  #failed(err: NodeJS.ErrnoException, socket: TLSSocket, bind: ListenAddress): void {
    const reason = failureReason(err);
    this.stats.failures[reason] = (this.stats.failures[reason] ?? 0) + 1;
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const p = raw ? this.#pending.get(raw) : undefined;
    if (p) this.#log.debug(`TLS handshake from ${p.ctx.client.srcAddress} on ${bind.text} failed (${reason}): ${err.message}`, { frontend: p.ctx.frontend.name });
    socket.destroy();
    raw?.destroy();
  }

  #checkExpiry(): void {
    for (const w of dueWarnings(this.#certs, this.#clock.wallNow(), this.#warned)) {
      const name = w.cert.names[0] ?? w.cert.file;
      const notAfter = isoDay(w.cert.notAfter);
      this.#log.warn(w.days <= 0 ? `Certificate "${name}" (${w.cert.file}) expired on ${notAfter}` : `Certificate "${name}" (${w.cert.file}) expires in ${w.days} day(s), on ${notAfter}`);
      this.#bus.emit("tls.cert_expiring", { name, file: w.cert.file, notAfter, days: w.days });
    }
  }
}

const ignore = () => {};
