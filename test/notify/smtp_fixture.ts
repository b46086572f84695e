// Test fixture: a real in-process SMTP server (npm smtp-server) on 127.0.0.1, a self-signed cert, configs.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import type { EmailNotifier, WebhookNotifier } from "../../src/notify/config.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  helo: string;
  secure: boolean;
  user?: string;
}

export interface SmtpFixtureOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  port?: number;
  secure?: boolean;
  tls?: { key: string; cert: string };
  hideSTARTTLS?: boolean;
  auth?: { user: string; pass: string; methods?: string[] };
  /** Return an SMTP reply to refuse a recipient: e.g. { code: 550, message: "no such user" }. n counts RCPTs for that address. */
  rcpt?: (address: string, n: number) => { code: number; message: string } | undefined;
}

export interface SmtpFixture {
  port: number;
  mails: ReceivedMail[];
  authAttempts: { method: string; user?: string }[];
  close(): Promise<void>;
}

/** Starts an SMTP server on 127.0.0.1 (or options.host; ephemeral port unless given). */
export async function startSmtp(options: SmtpFixtureOptions = {}): Promise<SmtpFixture> {
  const mails: ReceivedMail[] = [];
  const authAttempts: { method: string; user?: string }[] = [];
  const rcptCount = new Map<string, number>();
  const server = new SMTPServer({
    secure: options.secure ?? false,
    ...(options.tls ?? {}),
    hideSTARTTLS: options.hideSTARTTLS ?? !options.tls,
    authOptional: !options.auth,
    authMethods: options.auth?.methods ?? ["PLAIN", "LOGIN"],
    allowInsecureAuth: true,
    disabledCommands: [...(options.auth ? [] : ["AUTH"]), ...((options.hideSTARTTLS ?? !options.tls) ? ["STARTTLS"] : [])],
    logger: false,
    onAuth(auth, _session, cb) {
      authAttempts.push({ method: auth.method, user: auth.username });
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const n = (rcptCount.get(address.address) ?? 0) + 1;
      rcptCount.set(address.address, n);
      const refuse = options.rcpt?.(address.address, n);
      if (refuse) cb(Object.assign(new Error(refuse.message), { responseCode: refuse.code }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          helo: session.hostNameAppearsAs,
          secure: session.secure,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  server.on("error", () => {});
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    port: address.port,
    mails,
    authAttempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export { freePort } from "../helpers/net.ts";

/** A self-signed certificate for localhost / 127.0.0.1, made with openssl at test time. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An email notifier pointed at 127.0.0.1:port with fast retries. */
export function emailNotifier(port: number, overrides: Partial<EmailNotifier> & { smtp?: Partial<EmailNotifier["smtp"]> } = {}): EmailNotifier {
  const { smtp, ...rest } = overrides;
  return {
    name: "email",
    type: "email",
    from: "tandem@example.test",
    to: ["ops@example.test"],
    retry: { initial: 30, max: 200, maxAge: 60_000 },
    ...rest,
    smtp: { host: "127.0.0.1", port, security: "none", connectTimeout: 2000, rejectUnauthorized: false, ...smtp },
  };
}

/** A webhook notifier with fast retries. */
export function webhookNotifier(url: string, overrides: Partial<WebhookNotifier> = {}): WebhookNotifier {
  return { name: "hook", type: "webhook", url, headers: {}, timeout: 2000, retry: { initial: 30, max: 200, maxAge: 60_000 }, ...overrides };
}

/** A minimal resolved config for notify/alerts tests. */
export function testConfig(stateDir: string, parts: Partial<TandemConfig> = {}): TandemConfig {
  return {
    file: "test.yaml",
    role: "master",
    global: { maxconn: 100, workers: 1, stateDir, hostname: "lb1.test", gracePeriod: 1000 },
    frontends: [],
    backends: [],
    notifiers: [],
    alerts: [],
    ...parts,
  };
}

/** Decodes the Subject header of a raw message (RFC 2047 B/Q encoded words). */
export function decodedSubject(raw: string): string {
  const m = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(raw);
  if (!m) return "";
  return m[1]
    .replace(/\r\n[ \t]/g, " ")
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _cs, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"),
    );
}

/** Decodes the (single-part, base64 or plain) text body of a raw message. */
export function decodedBody(raw: string): string {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  if (/Content-Transfer-Encoding: base64/i.test(head)) return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  return body;
}
