// Pure retry decisions: backoff growth, expiry, per-recipient bookkeeping.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelay, decideAfterAttempt, isExpired, pendingRecipients } from "../../src/notify/retry.ts";
import type { SpoolEntry } from "../../src/notify/spool.ts";

const policy = { initial: 1000, max: 60_000, maxAge: 3_600_000 };

function entry(recipients: Record<string, "pending" | "delivered" | "rejected">): SpoolEntry {
  return { version: 1, id: "x-1", notifier: "email", createdAt: 0, message: { subject: "s", text: "t", source: "r" }, attempts: 0, nextAttemptAt: 0, recipients };
}

describe("retry", () => {
  it("backs off exponentially up to the cap", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(policy, n)), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
    assert.equal(backoffDelay(policy, 500), 60000);
  });

  it("expires only after maxAge", () => {
    assert.equal(isExpired(entry({}), 3_600_000, policy), false);
    assert.equal(isExpired(entry({}), 3_600_001, policy), true);
  });

  it("a transient error keeps every recipient pending and schedules the next attempt", () => {
    const d = decideAfterAttempt(entry({ a: "pending", b: "pending" }), { kind: "error", permanent: false, error: "connect ECONNREFUSED", code: "ESOCKET" }, 5000, policy);
    assert.equal(d.action, "retry");
    assert.equal(d.entry.attempts, 1);
    assert.equal(d.entry.nextAttemptAt, 6000);
    assert.deepEqual(pendingRecipients(d.entry), ["a", "b"]);
    assert.match(d.entry.lastError ?? "", /ESOCKET/);
  });

  it("a 5xx for one recipient drops only that one; a 4xx keeps it pending", () => {
    const d = decideAfterAttempt(
      entry({ a: "pending", b: "pending", c: "pending" }),
      { kind: "recipients", results: { a: { status: "delivered", detail: "250" }, b: { status: "rejected", detail: "550 no" }, c: { status: "deferred", detail: "451 later" } } },
      0,
      policy,
    );
    assert.equal(d.action, "retry");
    assert.deepEqual(d.entry.recipients, { a: "delivered", b: "rejected", c: "pending" });
    assert.deepEqual(d.delivered, ["a"]);
    assert.deepEqual(d.rejected, [{ recipient: "b", detail: "550 no" }]);
    const d2 = decideAfterAttempt(d.entry, { kind: "recipients", results: { c: { status: "delivered", detail: "250" } } }, 10, policy);
    assert.equal(d2.action, "done");
    assert.equal(d2.entry.attempts, 2);
  });

  it("drops when every recipient is rejected, or the message is refused outright", () => {
    const d = decideAfterAttempt(entry({ a: "pending" }), { kind: "recipients", results: { a: { status: "rejected", detail: "550" } } }, 0, policy);
    assert.equal(d.action, "drop");
    const e = decideAfterAttempt(entry({ a: "pending", b: "delivered" }), { kind: "error", permanent: true, error: "DATA refused: 554" }, 0, policy);
    assert.equal(e.action, "drop");
    assert.deepEqual(e.rejected.map((r) => r.recipient), ["a"]);
  });

  it("does not change its input", () => {
    const before = entry({ a: "pending" });
    const copy = structuredClone(before);
    decideAfterAttempt(before, { kind: "recipients", results: { a: { status: "delivered", detail: "" } } }, 0, policy);
    assert.deepEqual(before, copy);
  });
});
