// The `notify` section: email (SMTP) and webhook notifiers, their retry policy, and their checks.

import { z } from "zod";
import type { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import { duration, int, stringList } from "../config/schema_types.ts";

export const NOTIFY_DEFAULTS = {
  email: { port: 25, security: "opportunistic" as const, connectTimeout: 30_000 },
  webhookTimeout: 10_000,
  retry: { initial: 10_000, max: 600_000, maxAge: 2 * 86_400_000 },
} as const;

export interface EmailNotifier {
  name: string;
  type: "email";
  smtp: {
    host: string;
    port: number;
    /** "tls" = implicit TLS; "starttls" = required; "opportunistic" = STARTTLS if offered; "none". */
    security: "none" | "tls" | "starttls" | "opportunistic";
    auth?: { user: string; pass: string; method?: "plain" | "login" };
    connectTimeout: number;
    helo?: string;
    rejectUnauthorized: boolean;
  };
  from: string;
  to: string[];
  retry: RetryPolicy;
}

export interface WebhookNotifier {
  name: string;
  type: "webhook";
  url: string;
  headers: Record<string, string>;
  timeout: number;
  retry: RetryPolicy;
}

export interface RetryPolicy {
  initial: number;
  max: number;
  /** Messages older than this are dropped (with a log line and a counter). */
  maxAge: number;
}

export type NotifierConfig = EmailNotifier | WebhookNotifier;

const obj = z.strictObject;
const retry = obj({ initial: duration.optional(), max: duration.optional(), max_age: duration.optional() });

const email = obj({
  type: z.literal("email").optional(),
  smtp: obj({
    host: z.string(),
    port: int(1, 65535).optional(),
    security: z.enum(["none", "tls", "starttls", "opportunistic"]).optional(),
    auth: obj({ user: z.string(), pass: z.string(), method: z.enum(["plain", "login"]).optional() }).optional(),
    connect_timeout: duration.optional(),
    helo: z.string().optional(),
    reject_unauthorized: z.boolean().optional(),
  }),
  from: z.string(),
  to: stringList,
  retry: retry.optional(),
});

const webhook = obj({
  type: z.literal("webhook").optional(),
  url: z.string().url(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: duration.optional(),
  retry: retry.optional(),
});

const notifierSchema = z.union([email, webhook]);
type NotifierInput = z.output<typeof notifierSchema>;

function notifierOf(name: string, n: NotifierInput): NotifierConfig {
  const D = NOTIFY_DEFAULTS;
  const r = n.retry;
  const policy = { initial: r?.initial ?? D.retry.initial, max: r?.max ?? D.retry.max, maxAge: r?.max_age ?? D.retry.maxAge };
  if ("smtp" in n) {
    return {
      name,
      type: "email",
      smtp: {
        host: n.smtp.host,
        port: n.smtp.port ?? (n.smtp.security === "tls" ? 465 : D.email.port),
        security: n.smtp.security ?? D.email.security,
        auth: n.smtp.auth,
        connectTimeout: n.smtp.connect_timeout ?? D.email.connectTimeout,
        helo: n.smtp.helo,
        rejectUnauthorized: n.smtp.reject_unauthorized ?? true,
      },
      from: n.from,
      to: n.to,
      retry: policy,
    };
  }
  return { name, type: "webhook", url: n.url, headers: n.headers ?? {}, timeout: n.timeout ?? D.webhookTimeout, retry: policy };
}

/** What the schema cannot say about a notifier: recipients, addresses, the retry policy's order. */
export function checkNotifier(n: NotifierConfig, diag: Diagnostics): void {
  const at = (...p: (string | number)[]) => ["notify", n.name, ...p];
  if (n.retry.initial <= 0 || n.retry.max < n.retry.initial) diag.error(at("retry"), `retry: initial must be > 0 and max >= initial (got ${n.retry.initial} and ${n.retry.max} ms)`);
  if (n.retry.maxAge < n.retry.initial) diag.error(at("retry", "max_age"), `retry max_age (${n.retry.maxAge} ms) is shorter than the first retry delay`);
  if (n.type === "email") {
    if (n.to.length === 0) diag.error(at("to"), `notifier "${n.name}" has no recipient`);
    if (!n.from.includes("@")) diag.error(at("from"), `"${n.from}" is not an email address`);
    for (const [j, r] of n.to.entries()) if (!r.includes("@")) diag.error(at("to", j), `"${r}" is not an email address`);
    if (n.smtp.security === "none" && n.smtp.auth) diag.warn(at("smtp", "auth"), `AUTH over an unencrypted connection sends the password in clear (security: none)`);
  } else {
    try {
      const u = new URL(n.url);
      if (u.protocol !== "http:" && u.protocol !== "https:") diag.error(at("url"), `"${n.url}" must be an http:// or https:// URL`);
    } catch {
      diag.error(at("url"), `"${n.url}" is not a URL`);
    }
  }
}

export const notifySection: ConfigSection<{ notifiers: NotifierConfig[] }> = {
  name: "notify",
  keys: { notify: z.record(z.string(), notifierSchema).optional() },
  entries: { notify: { kind: "record", entry: notifierSchema } },
  normalize(ctx, diag) {
    const notifiers = Object.entries((ctx.input.notify ?? {}) as Record<string, NotifierInput>).map(([name, n]) => notifierOf(name, n));
    for (const n of notifiers) checkNotifier(n, diag);
    return { notifiers };
  },
};
