// Helpers for the TLS/HTTP/2 integration tests: a proxy subsystem with TLS and HTTP/2, and clients.

import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { connect as h2connect } from "node:http2";
import type { ClientHttp2Session, IncomingHttpHeaders } from "node:http2";
import { loadConfigText } from "../../src/tandem_config.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { Services, Subsystem } from "../../src/core/subsystem.ts";
import { httpSession } from "../../src/proxy/http/session.ts";
import { h2Session } from "../../src/proxy/h2/session.ts";
import { createProxySubsystem } from "../../src/proxy/subsystem.ts";

export interface TlsProxy {
  config: TandemConfig;
  subsystem: Subsystem;
  bus: EventBus;
  lines: string[];
  status(): { tls?: { handshakes: number; failures: Record<string, number>; h2: number } } & Record<string, unknown>;
  reload(yaml: string): Promise<void>;
  stop(): Promise<void>;
}

/** Loads YAML (throws on errors) and starts the proxy subsystem with the http and h2 handlers. */
export async function startTlsProxy(yaml: string): Promise<TlsProxy> {
  const load = (text: string) => {
    const r = loadConfigText(text, "test.yaml");
    if (!r.config) throw new Error(`bad test config: ${r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join("; ")}`);
    return r.config;
  };
  const config = load(yaml);
  const lines: string[] = [];
  const log = createLogger("tandem", { level: (process.env.TANDEM_TEST_LOG as "debug") ?? "info", write: (l) => lines.push(l) });
  const bus = new EventBus();
  const services: Services = {};
  const subsystem = createProxySubsystem({ config, bus, clock: systemClock, log, services }, { handlers: { http: httpSession }, h2: h2Session });
  await subsystem.start();
  return {
    config,
    subsystem,
    bus,
    lines,
    status: () => services.proxy!.status() as ReturnType<TlsProxy["status"]>,
    reload: (text) => subsystem.reload(load(text)),
    stop: () => subsystem.stop("test over"),
  };
}

/** A TLS connection; resolves once the handshake is done (rejects on failure). */
export function tlsOpen(port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options }, () => resolve(s));
    s.once("error", reject);
  });
}

/** One HTTP/1.1 request over TLS (Connection: close); resolves the raw response text. */
export async function httpsText(port: number, request: string, options: ConnectionOptions = {}): Promise<string> {
  const s = await tlsOpen(port, { ALPNProtocols: ["http/1.1"], ...options });
  return await new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => {});
    s.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    s.write(request);
  });
}

/** An HTTP/2 client session to 127.0.0.1:port (certificates not verified unless ca is given). */
export function h2Client(port: number, options: { servername?: string; ca?: string | Buffer } = {}): ClientHttp2Session {
  const c = h2connect(`https://127.0.0.1:${port}`, { servername: options.servername ?? "localhost", ca: options.ca, rejectUnauthorized: options.ca !== undefined, ALPNProtocols: ["h2"] } as never);
  c.on("error", () => {});
  return c;
}

/** One request on an HTTP/2 session: status, headers, body. */
export function h2Request(c: ClientHttp2Session, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = c.request(headers, { endStream: body === undefined });
    let res: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    r.on("response", (h) => (res = h));
    r.on("data", (d: Buffer) => chunks.push(d));
    r.on("end", () => resolve({ status: Number(res[":status"]), headers: res, body: Buffer.concat(chunks).toString() }));
    r.on("error", reject);
    if (body !== undefined) r.end(body);
  });
}
