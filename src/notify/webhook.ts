// The webhook notifier: POSTs each spooled message as JSON to a URL, with the same spool and retries.

import type { WebhookNotifier } from "./config.ts";
import type { OutgoingMessage } from "./message.ts";
import type { Transport } from "./queue.ts";
import type { AttemptResult } from "./retry.ts";
import type { SpoolEntry } from "./spool.ts";

/** The JSON body of a webhook POST. */
export interface WebhookPayload {
  id: string;
  host: string;
  notifier: string;
  source: string;
  subject: string;
  text: string;
  /** ISO time the message was created (it may arrive later after retries). */
  createdAt: string;
}

/** What one POST returned. */
export interface WebhookResponse {
  status: number;
  body: string;
}

/**
 * Statuses that say the request itself is unacceptable and a retry would get the same answer
 * (RFC 9110 §15.5). Everything else — network errors, 5xx, 408, 429, and auth/404 answers that
 * a config reload may fix — is retried until max age.
 */
const PERMANENT_STATUS = new Set([400, 405, 411, 413, 415, 422]);

/** POSTs a payload. Resolves with status and the first 2 KB of the body; rejects on network errors and timeout. */
export async function postWebhook(config: WebhookNotifier, payload: WebhookPayload): Promise<WebhookResponse> {
  const response = await fetch(config.url, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", ...config.headers },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(config.timeout),
    redirect: "error",
  });
  const body = (await response.text()).slice(0, 2048);
  return { status: response.status, body };
}

/** The payload for a message. */
export function webhookPayload(id: string, host: string, notifier: string, message: OutgoingMessage, createdAt: number): WebhookPayload {
  return { id, host, notifier, source: message.source, subject: message.subject, text: message.text, createdAt: new Date(createdAt).toISOString() };
}

/** Creates the spool transport of a webhook notifier; its one "recipient" is the URL. */
export function createWebhookTransport(config: WebhookNotifier, hostname: string): Transport {
  return {
    recipients: () => [config.url],
    async deliver(entry: SpoolEntry, recipients: string[]): Promise<AttemptResult> {
      const url = recipients[0] ?? config.url;
      try {
        const res = await postWebhook({ ...config, url }, webhookPayload(entry.id, hostname, entry.notifier, entry.message, entry.createdAt));
        const detail = `HTTP ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ""}`;
        if (res.status >= 200 && res.status < 300) return { kind: "recipients", results: { [url]: { status: "delivered", detail } } };
        return { kind: "recipients", results: { [url]: { status: PERMANENT_STATUS.has(res.status) ? "rejected" : "deferred", detail } } };
      } catch (err) {
        const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
        const code = e.name === "TimeoutError" ? "ETIMEDOUT" : (e.cause?.code ?? e.code);
        const why = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
        return { kind: "error", permanent: false, error: `POST ${url} failed: ${why}`, code };
      }
    },
  };
}
