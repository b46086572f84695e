// `tandem alert test`: sends one message straight to a notifier (no spool) and reports the outcome.

import type { NotifierConfig } from "./config.ts";
import type { NotifySubsystemConfig } from "./subsystem.ts";
import { TandemError, UsageError } from "../core/errors.ts";
import type { OutgoingMessage } from "./message.ts";
import { sendMail, type SmtpError } from "./email.ts";
import { newSpoolId } from "./spool.ts";
import { postWebhook, webhookPayload } from "./webhook.ts";

/** The outcome of a test send, ready to print. */
export interface TestMessageResult {
  notifier: string;
  type: "email" | "webhook";
  ok: boolean;
  /** Where it went: "smtp.example.com:25 (starttls)" or the URL. */
  target: string;
  elapsedMs: number;
  /** email: recipients the server accepted / refused (with its reply). */
  accepted?: string[];
  rejected?: { recipient: string; response: string; responseCode?: number }[];
  /** Last server reply (SMTP) or "HTTP 200: body" (webhook). */
  response?: string;
  messageId?: string;
  error?: { message: string; code?: string; command?: string; response?: string; responseCode?: number };
}

function pickNotifiers(config: NotifySubsystemConfig, name?: string): NotifierConfig[] {
  if (name === undefined) {
    if (config.notifiers.length === 0) throw new UsageError(`No notifier is configured in "${config.file}"`);
    return config.notifiers;
  }
  const found = config.notifiers.find((n) => n.name === name);
  if (!found) {
    const known = config.notifiers.map((n) => `"${n.name}"`).join(", ") || "none";
    throw new UsageError(`Unknown notifier "${name}" (configured: ${known})`);
  }
  return [found];
}

/** The test message itself (UTF-8 on purpose, to prove the path carries it). */
export function testMessage(config: NotifySubsystemConfig, wallNow: number): OutgoingMessage {
  const when = new Date(wallNow).toISOString();
  return {
    subject: `tandem test message from ${config.global.hostname} — 测试`,
    text: `This is a test message sent by "tandem alert test" on ${config.global.hostname} (role ${config.role}) at ${when}.\n这是一封测试邮件。\n`,
    source: "alert-test",
  };
}

async function sendOne(config: NotifySubsystemConfig, n: NotifierConfig, message: OutgoingMessage, wallNow: () => number): Promise<TestMessageResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (n.type === "webhook") {
    try {
      const res = await postWebhook(n, webhookPayload(newSpoolId(wallNow()), config.global.hostname, n.name, message, wallNow()));
      const ok = res.status >= 200 && res.status < 300;
      return { notifier: n.name, type: "webhook", ok, target: n.url, elapsedMs: elapsed(), response: `HTTP ${res.status}${res.body ? `: ${res.body.slice(0, 500)}` : ""}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return { notifier: n.name, type: "webhook", ok: false, target: n.url, elapsedMs: elapsed(), error: { message: e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message, code: e.name === "TimeoutError" ? "ETIMEDOUT" : e.cause?.code } };
    }
  }
  const target = `${n.smtp.host}:${n.smtp.port} (${n.smtp.security})`;
  try {
    const info = await sendMail(n, config.global.hostname, message, n.to);
    const rejected = (info.rejectedErrors ?? []).map((e) => ({ recipient: e.recipient ?? "?", response: e.response ?? e.message, responseCode: e.responseCode }));
    for (const r of info.rejected) if (!rejected.some((x) => x.recipient === r)) rejected.push({ recipient: r, response: "rejected", responseCode: undefined });
    return { notifier: n.name, type: "email", ok: rejected.length === 0, target, elapsedMs: elapsed(), accepted: info.accepted, rejected, response: info.response, messageId: info.messageId };
  } catch (err) {
    const e = err as SmtpError;
    const rejected = (e.rejectedErrors ?? []).map((r) => ({ recipient: r.recipient ?? "?", response: r.response ?? r.message, responseCode: r.responseCode }));
    return {
      notifier: n.name,
      type: "email",
      ok: false,
      target,
      elapsedMs: elapsed(),
      accepted: [],
      rejected,
      error: { message: e.message, code: e.code, command: e.command, response: e.response, responseCode: e.responseCode },
    };
  }
}

/**
 * Sends a test message to one notifier (or to every notifier when name is omitted), bypassing the
 * spool, and returns what each server answered. Never throws for a delivery failure (that is in
 * the result); throws UsageError for an unknown notifier name.
 */
export async function sendTestMessage(config: NotifySubsystemConfig, name?: string, options: { wallNow?: () => number; message?: OutgoingMessage } = {}): Promise<TestMessageResult[]> {
  const wallNow = options.wallNow ?? Date.now;
  const message = options.message ?? testMessage(config, wallNow());
  const results: TestMessageResult[] = [];
  for (const n of pickNotifiers(config, name)) {
    try {
      results.push(await sendOne(config, n, message, wallNow));
    } catch (err) {
      throw new TandemError("E_NOTIFY_TEST", `Cannot send a test message via "${n.name}": ${(err as Error).message}`, { cause: err });
    }
  }
  return results;
}

/** Renders results as lines for the CLI. */
export function formatTestResults(results: TestMessageResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? "OK  " : "FAIL"} ${r.notifier} (${r.type}) → ${r.target} in ${r.elapsedMs} ms`);
    if (r.accepted?.length) lines.push(`     accepted: ${r.accepted.join(", ")}`);
    for (const x of r.rejected ?? []) lines.push(`     rejected: ${x.recipient}: ${x.response}`);
    if (r.response) lines.push(`     server: ${r.response}`);
    if (r.error) {
      const parts = [r.error.code, r.error.command && `during ${r.error.command}`].filter(Boolean).join(" ");
      lines.push(`     error: ${r.error.message}${parts ? ` [${parts}]` : ""}`);
      if (r.error.response && !r.error.message.includes(r.error.response)) lines.push(`     server said: ${r.error.response}`);
    }
  }
  return lines.join("\n");
}
