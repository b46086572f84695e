// The email notifier: SMTP via nodemailer, with SMTP replies mapped to per-recipient outcomes.

import nodemailer from "nodemailer";
import type { EmailNotifier } from "./config.ts";
import type { OutgoingMessage } from "./message.ts";
import type { Transport } from "./queue.ts";
import type { AttemptResult, RecipientOutcome } from "./retry.ts";
import type { SpoolEntry } from "./spool.ts";

/** The parts of a nodemailer error we read (it attaches the SMTP command and reply). */
export interface SmtpError {
  message: string;
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** What an SMTP send returned, in plain data. */
export interface SmtpSendInfo {
  accepted: string[];
  rejected: string[];
  rejectedErrors?: SmtpError[];
  response: string;
  messageId: string;
}

/** nodemailer transport options for one email notifier (RFC 3207 STARTTLS, RFC 8314 implicit TLS). */
export function smtpOptions(config: EmailNotifier, hostname: string): Record<string, unknown> {
  const smtp = config.smtp;
  const options: Record<string, unknown> = {
    host: smtp.host,
    port: smtp.port,
    name: smtp.helo ?? hostname,
    connectionTimeout: smtp.connectTimeout,
    greetingTimeout: smtp.connectTimeout,
    socketTimeout: Math.max(smtp.connectTimeout, 60_000),
    dnsTimeout: smtp.connectTimeout,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
    secure: smtp.security === "tls",
    requireTLS: smtp.security === "starttls",
    ignoreTLS: smtp.security === "none",
    opportunisticTLS: smtp.security === "opportunistic",
  };
  if (smtp.auth) {
    const method = smtp.auth.method ? smtp.auth.method.toUpperCase() : undefined;
    options.auth = { user: smtp.auth.user, pass: smtp.auth.pass, ...(method ? { method } : {}) };
    if (method) options.authMethod = method;
  }
  return options;
}

/** Sends one message to the given recipients; resolves with nodemailer's info, rejects with its error. */
export async function sendMail(
  config: EmailNotifier,
  hostname: string,
  message: OutgoingMessage,
  to: string[],
  messageId?: string,
): Promise<SmtpSendInfo> {
  const transport = nodemailer.createTransport(smtpOptions(config, hostname));
  try {
    const info = await transport.sendMail({
      from: config.from,
      to,
      subject: message.subject,
      text: message.text,
      textEncoding: "base64",
      ...(messageId ? { messageId } : {}),
      headers: { "X-Tandem-Source": message.source, "X-Tandem-Host": hostname },
    });
    return info as unknown as SmtpSendInfo;
  } finally {
    transport.close();
  }
}

/** RFC 5321 §4.2.1: 5yz is permanent, except 503 (bad sequence) which a new session may not repeat. */
function isPermanent(code: number | undefined): boolean {
  return code !== undefined && code >= 500 && code !== 503;
}

function recipientOutcomes(errors: SmtpError[] | undefined): Record<string, RecipientOutcome> {
  const out: Record<string, RecipientOutcome> = {};
  for (const e of errors ?? []) {
    if (!e.recipient) continue;
    out[e.recipient] = { status: isPermanent(e.responseCode) ? "rejected" : "deferred", detail: e.response ?? e.message };
  }
  return out;
}

/** Maps a nodemailer outcome to an attempt result. Exported for the tests of this mapping. */
export function mapSmtpOutcome(recipients: string[], info: SmtpSendInfo | undefined, err: SmtpError | undefined): AttemptResult {
  if (info) {
    const results = recipientOutcomes(info.rejectedErrors);
    for (const r of info.accepted) results[r] = { status: "delivered", detail: info.response };
    for (const r of info.rejected) results[r] ??= { status: "deferred", detail: "rejected without a reply" };
    return { kind: "recipients", results };
  }
  const e = err ?? { message: "unknown SMTP failure" };
  const reply = e.response ? `: ${e.response}` : "";
  if (e.command === "RCPT TO" && e.rejectedErrors?.length) {
    // Every recipient was refused; each refusal says whether it is permanent.
    const results = recipientOutcomes(e.rejectedErrors);
    for (const r of recipients) results[r] ??= { status: "deferred", detail: e.message };
    return { kind: "recipients", results };
  }
  if (e.responseCode !== undefined && isPermanent(e.responseCode) && (e.command === "MAIL FROM" || e.command === "DATA" || e.command === "DATA end")) {
    return { kind: "error", permanent: true, error: `${e.command} refused${reply}`, code: e.code };
  }
  // Unreachable, timeout, TLS, AUTH failures and 4xx replies: retry; a fixed config is picked up on reload.
  return { kind: "error", permanent: false, error: e.message, code: e.code };
}

/** Creates the spool transport of an email notifier. */
export function createEmailTransport(config: EmailNotifier, hostname: string): Transport {
  return {
    recipients: () => [...config.to],
    async deliver(entry: SpoolEntry, recipients: string[]): Promise<AttemptResult> {
      // A stable Message-ID per spool entry lets a receiving system spot a duplicate after a crash mid-DATA.
      const messageId = `<${entry.id}@${hostname}>`;
      try {
        const info = await sendMail(config, hostname, entry.message, recipients, messageId);
        return mapSmtpOutcome(recipients, info, undefined);
      } catch (err) {
        return mapSmtpOutcome(recipients, undefined, err as SmtpError);
      }
    },
  };
}
