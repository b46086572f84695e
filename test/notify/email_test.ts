// Email notifier against a real SMTP server: AUTH, STARTTLS, implicit TLS, HELO, UTF-8, reply mapping.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createEmailTransport, mapSmtpOutcome, sendMail } from "../../src/notify/email.ts";
import type { SpoolEntry } from "../../src/notify/spool.ts";
import { formatTestResults, sendTestMessage } from "../../src/notify/test_message.ts";
import { decodedBody, decodedSubject, emailNotifier, freePort, selfSignedCert, startSmtp, testConfig } from "./smtp_fixture.ts";

const message = { subject: "警告", text: "exkeepalive8.233 is down\n主机已宕机", source: "vip-lost" };

function entry(recipients: string[]): SpoolEntry {
  return { version: 1, id: "000000001-abcdef", notifier: "email", createdAt: 0, message, attempts: 0, nextAttemptAt: 0, recipients: Object.fromEntries(recipients.map((r) => [r, "pending" as const])) };
}

describe("email", () => {
  let cert: { key: string; cert: string };
  before(() => {
    cert = selfSignedCert();
  });

  it("delivers a UTF-8 subject and body to several recipients with the configured HELO name", async () => {
    const smtp = await startSmtp();
    after(() => smtp.close());
    const n = emailNotifier(smtp.port, { to: ["a@example.test", "b@example.test"], smtp: { helo: "lb1.example.test" } });
    const info = await sendMail(n, "ignored-host", message, n.to);
    assert.deepEqual(info.accepted.sort(), ["a@example.test", "b@example.test"]);
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0].helo, "lb1.example.test");
    assert.equal(decodedSubject(smtp.mails[0].raw), "警告");
    assert.match(decodedBody(smtp.mails[0].raw), /主机已宕机/);
  });

  it("uses STARTTLS (required) with AUTH PLAIN", async () => {
    const smtp = await startSmtp({ tls: cert, auth: { user: "alice", pass: "s3cret", methods: ["PLAIN", "LOGIN"] } });
    after(() => smtp.close());
    const n = emailNotifier(smtp.port, { smtp: { security: "starttls", auth: { user: "alice", pass: "s3cret", method: "plain" } } });
    await sendMail(n, "lb1.test", message, n.to);
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0].secure, true);
    assert.equal(smtp.mails[0].user, "alice");
    assert.deepEqual(smtp.authAttempts.map((a) => a.method), ["PLAIN"]);
  });

  it("uses implicit TLS with AUTH LOGIN", async () => {
    const smtp = await startSmtp({ secure: true, tls: cert, auth: { user: "bob", pass: "pw", methods: ["PLAIN", "LOGIN"] } });
    after(() => smtp.close());
    const n = emailNotifier(smtp.port, { smtp: { security: "tls", auth: { user: "bob", pass: "pw", method: "login" } } });
    await sendMail(n, "lb1.test", message, n.to);
    assert.equal(smtp.mails[0].secure, true);
    assert.deepEqual(smtp.authAttempts.map((a) => a.method), ["LOGIN"]);
  });

  it("refuses to send in clear when STARTTLS is required but not offered", async () => {
    const smtp = await startSmtp({ hideSTARTTLS: true });
    after(() => smtp.close());
    const n = emailNotifier(smtp.port, { smtp: { security: "starttls" } });
    const result = await createEmailTransport(n, "lb1.test").deliver(entry(n.to), n.to);
    assert.equal(result.kind, "error");
    assert.equal(result.kind === "error" && result.permanent, false);
    assert.equal(smtp.mails.length, 0);
  });

  it("opportunistic security sends in clear when STARTTLS is not offered, and encrypts when it is", async () => {
    const plain = await startSmtp({ hideSTARTTLS: true });
    const tls = await startSmtp({ tls: cert });
    after(() => Promise.all([plain.close(), tls.close()]));
    await sendMail(emailNotifier(plain.port, { smtp: { security: "opportunistic" } }), "h", message, ["x@example.test"]);
    await sendMail(emailNotifier(tls.port, { smtp: { security: "opportunistic" } }), "h", message, ["x@example.test"]);
    assert.equal(plain.mails[0].secure, false);
    assert.equal(tls.mails[0].secure, true);
  });

  it("maps a 550 for one recipient to rejected and a 451 to deferred, the rest delivered", async () => {
    const smtp = await startSmtp({ rcpt: (a) => (a === "gone@example.test" ? { code: 550, message: "no such user" } : a === "busy@example.test" ? { code: 451, message: "try later" } : undefined) });
    after(() => smtp.close());
    const to = ["ok@example.test", "gone@example.test", "busy@example.test"];
    const n = emailNotifier(smtp.port, { to });
    const result = await createEmailTransport(n, "lb1.test").deliver(entry(to), to);
    assert.equal(result.kind, "recipients");
    if (result.kind !== "recipients") return;
    assert.equal(result.results["ok@example.test"].status, "delivered");
    assert.equal(result.results["gone@example.test"].status, "rejected");
    assert.equal(result.results["busy@example.test"].status, "deferred");
    assert.deepEqual(smtp.mails.map((m) => m.to), [["ok@example.test"]]);
  });

  it("maps an unreachable server to a transient error with a code", async () => {
    const port = await freePort();
    const n = emailNotifier(port);
    const result = await createEmailTransport(n, "lb1.test").deliver(entry(n.to), n.to);
    assert.equal(result.kind, "error");
    if (result.kind === "error") {
      assert.equal(result.permanent, false);
      assert.ok(result.code);
    }
  });

  it("maps a 5xx to MAIL FROM to a permanent error", () => {
    const r = mapSmtpOutcome(["a@x"], undefined, { message: "Mail command failed", code: "EENVELOPE", command: "MAIL FROM", response: "553 sender refused", responseCode: 553 });
    assert.deepEqual(r.kind === "error" && r.permanent, true);
    const t = mapSmtpOutcome(["a@x"], undefined, { message: "Invalid login", code: "EAUTH", command: "AUTH PLAIN", response: "535 bad", responseCode: 535 });
    assert.deepEqual(t.kind === "error" && t.permanent, false);
  });

  it("sendTestMessage reports accepted and rejected recipients and the server's reply", async () => {
    const smtp = await startSmtp({ rcpt: (a) => (a === "gone@example.test" ? { code: 550, message: "no such user" } : undefined) });
    after(() => smtp.close());
    const config = testConfig("/nonexistent", { notifiers: [emailNotifier(smtp.port, { to: ["ok@example.test", "gone@example.test"] })] });
    const [r] = await sendTestMessage(config, "email");
    assert.equal(r.ok, false);
    assert.deepEqual(r.accepted, ["ok@example.test"]);
    assert.equal(r.rejected?.[0].recipient, "gone@example.test");
    assert.equal(r.rejected?.[0].responseCode, 550);
    assert.match(r.response ?? "", /^250/);
    assert.match(formatTestResults([r]), /rejected: gone@example.test: 550/);
    assert.match(decodedSubject(smtp.mails[0].raw), /测试/);
  });

  it("sendTestMessage reports a connection failure with its code, and refuses an unknown notifier", async () => {
    const config = testConfig("/nonexistent", { notifiers: [emailNotifier(await freePort())] });
    const [r] = await sendTestMessage(config);
    assert.equal(r.ok, false);
    assert.ok(r.error?.code);
    assert.match(formatTestResults([r]), /^FAIL email/);
    await assert.rejects(sendTestMessage(config, "pager"), /Unknown notifier "pager"/);
  });
});
