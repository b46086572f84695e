// Pure retry decisions for spooled messages: backoff, expiry, and what one attempt's outcome means.

import type { RetryPolicy } from "./config.ts";
import type { SpoolEntry } from "./spool.ts";

/** What happened to one recipient in one delivery attempt. */
export interface RecipientOutcome {
  /** delivered: accepted; deferred: try again (4xx); rejected: permanent (5xx), give this one up. */
  status: "delivered" | "deferred" | "rejected";
  detail: string;
}

/** The result of one delivery attempt, as a transport reports it. */
export type AttemptResult =
  /** The server was reached and answered per recipient. */
  | { kind: "recipients"; results: Record<string, RecipientOutcome> }
  /** The attempt failed as a whole: unreachable, timeout, TLS, auth (transient) or a 5xx to the message (permanent). */
  | { kind: "error"; permanent: boolean; error: string; code?: string };

/** What to do with an entry after an attempt. */
export interface AttemptDecision {
  entry: SpoolEntry;
  /** done: nothing pending (remove the file); retry: write back and try later; drop: give up (remove). */
  action: "done" | "retry" | "drop";
  delivered: string[];
  rejected: { recipient: string; detail: string }[];
  /** Why it is retried or dropped. */
  reason?: string;
}

/** Delay before attempt number `attempts + 1`: initial·2^(attempts−1), capped at max. */
export function backoffDelay(policy: RetryPolicy, attempts: number): number {
  const exp = Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(policy.max, policy.initial * 2 ** exp);
}

/** True when the entry is older than the policy's maxAge and must be dropped instead of tried. */
export function isExpired(entry: SpoolEntry, wallNow: number, policy: RetryPolicy): boolean {
  return wallNow - entry.createdAt > policy.maxAge;
}

/** Recipients still to be tried. */
export function pendingRecipients(entry: SpoolEntry): string[] {
  return Object.keys(entry.recipients).filter((r) => entry.recipients[r] === "pending");
}

/**
 * Applies one attempt's result to an entry (returns a new entry, the input is not changed).
 * Delivered recipients are marked so they are never sent again; rejected ones are given up
 * one by one; the entry is retried with backoff while anything stays pending.
 */
export function decideAfterAttempt(entry: SpoolEntry, result: AttemptResult, wallNow: number, policy: RetryPolicy): AttemptDecision {
  const next: SpoolEntry = { ...entry, recipients: { ...entry.recipients }, attempts: entry.attempts + 1 };
  const delivered: string[] = [];
  const rejected: { recipient: string; detail: string }[] = [];
  const pending = pendingRecipients(entry);
  if (result.kind === "error") {
    next.lastError = result.code ? `${result.error} (${result.code})` : result.error;
    if (result.permanent) {
      for (const r of pending) {
        next.recipients[r] = "rejected";
        rejected.push({ recipient: r, detail: result.error });
      }
      return { entry: next, action: "drop", delivered, rejected, reason: `rejected by the server: ${next.lastError}` };
    }
  } else {
    const deferred: string[] = [];
    for (const r of pending) {
      const outcome = result.results[r];
      if (!outcome) {
        deferred.push(`${r}: no answer`);
        continue;
      }
      if (outcome.status === "delivered") {
        next.recipients[r] = "delivered";
        delivered.push(r);
      } else if (outcome.status === "rejected") {
        next.recipients[r] = "rejected";
        rejected.push({ recipient: r, detail: outcome.detail });
      } else {
        deferred.push(`${r}: ${outcome.detail}`);
      }
    }
    if (deferred.length > 0) next.lastError = deferred.join("; ");
  }
  if (pendingRecipients(next).length === 0) {
    const anyDelivered = Object.values(next.recipients).includes("delivered");
    return anyDelivered
      ? { entry: next, action: "done", delivered, rejected }
      : { entry: next, action: "drop", delivered, rejected, reason: "every recipient was rejected" };
  }
  next.nextAttemptAt = wallNow + backoffDelay(policy, next.attempts);
  return { entry: next, action: "retry", delivered, rejected, reason: next.lastError };
}
