// Spool + retries end to end with a real SMTP server and a real HTTP server: nothing lost, nothing twice.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus, type AnyEvent } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { NotifierConfig } from "../../src/notify/config.ts";
import type { Services } from "../../src/core/subsystem.ts";
import { createNotifySubsystem, spoolDir } from "../../src/notify/subsystem.ts";
import type { NotifyStatus } from "../../src/notify/subsystem.ts";
import { decodedSubject, emailNotifier, freePort, startSmtp, testConfig, webhookNotifier } from "./smtp_fixture.ts";

const root = mkdtempSync(join(tmpdir(), "tandem-notify-"));
let seq = 0;

/** A notify subsystem on a fresh state dir (or a given one), with its events and log lines captured. */
function setup(notifiers: NotifierConfig[], stateDir = join(root, `s${++seq}`)) {
  const bus = new EventBus();
  const events: AnyEvent[] = [];
  bus.onAny((e) => events.push(e));
  const lines: string[] = [];
  const services: Services = {};
  const config = testConfig(stateDir, { notifiers });
  const sub = createNotifySubsystem({ config, bus, clock: systemClock, log: createLogger("test", { write: (l) => lines.push(l), level: "debug" }), services });
  after(() => sub.stop("test end"));
  const notify = services.notify!;
  return { sub, notify, events, lines, stateDir, config, status: () => (notify.status() as NotifyStatus).notifiers[0] };
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const msg = { subject: "警告", text: "exkeepalive8.233 is down", source: "vip-lost" };

describe("notify subsystem", () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it("spools while the server is down and delivers exactly once when it comes up", async () => {
    const port = await freePort();
    const t = setup([emailNotifier(port)]);
    await t.sub.start();
    const id = await t.notify.send("email", msg);
    assert.deepEqual(readdirSync(spoolDir(t.config, "email")), [`${id}.json`]);
    await waitFor("two failed attempts", () => t.status().failedAttempts >= 2);
    assert.equal(t.status().pending, 1);
    const smtp = await startSmtp({ port });
    after(() => smtp.close());
    await waitFor("delivery", () => t.status().delivered === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(smtp.mails.length, 1);
    assert.equal(decodedSubject(smtp.mails[0].raw), "警告");
    assert.match(smtp.mails[0].raw, new RegExp(`Message-ID: <${id}@lb1.test>`, "i"));
    assert.deepEqual(readdirSync(spoolDir(t.config, "email")), []);
    assert.ok(t.events.some((e) => e.name === "notify.delivered" && (e.data as { id: string }).id === id));
    assert.ok(t.status().lastDeliveryAt);
  });

  it("retries a 4xx and delivers once accepted", async () => {
    const smtp = await startSmtp({ rcpt: (_a, n) => (n < 3 ? { code: 451, message: "greylisted, try later" } : undefined) });
    after(() => smtp.close());
    const t = setup([emailNotifier(smtp.port)]);
    await t.sub.start();
    await t.notify.send("email", msg);
    await waitFor("delivery", () => t.status().delivered === 1);
    assert.equal(smtp.mails.length, 1);
    assert.equal(t.status().attempts, 3);
    assert.ok(t.lines.some((l) => /delivery failed, will retry/.test(l) && /greylisted/.test(l)));
  });

  it("a 5xx for one recipient drops only that one; a 4xx one is retried alone", async () => {
    const smtp = await startSmtp({
      rcpt: (a, n) => (a === "gone@example.test" ? { code: 550, message: "no such user" } : a === "slow@example.test" && n === 1 ? { code: 452, message: "mailbox full" } : undefined),
    });
    after(() => smtp.close());
    const t = setup([emailNotifier(smtp.port, { to: ["ok@example.test", "gone@example.test", "slow@example.test"] })]);
    await t.sub.start();
    await t.notify.send("email", msg);
    await waitFor("delivery", () => t.status().delivered === 1);
    assert.deepEqual(smtp.mails.map((m) => m.to), [["ok@example.test"], ["slow@example.test"]]);
    assert.equal(t.status().rejectedRecipients, 1);
    assert.ok(t.lines.some((l) => /recipient rejected permanently/.test(l) && /gone@example.test/.test(l)));
  });

  it("drops a message after max age with a log line, a counter and an event", async () => {
    const port = await freePort();
    const t = setup([emailNotifier(port, { retry: { initial: 20, max: 50, maxAge: 200 } })]);
    await t.sub.start();
    const id = await t.notify.send("email", msg);
    await waitFor("drop", () => t.status().dropped === 1);
    assert.equal(t.status().pending, 0);
    const ev = t.events.find((e) => e.name === "notify.dropped");
    assert.equal((ev?.data as { id: string }).id, id);
    assert.match((ev?.data as { reason: string }).reason, /max age/);
    assert.ok(t.lines.some((l) => /ERROR/.test(l) && /message dropped/.test(l)));
  });

  it("a new instance delivers what a stopped one left in the spool", async () => {
    const port = await freePort();
    const stateDir = join(root, "restart");
    const first = setup([emailNotifier(port)], stateDir);
    await first.sub.start();
    await first.notify.send("email", msg);
    await first.notify.send("email", { ...msg, subject: "second" });
    await first.sub.stop("restart");
    const smtp = await startSmtp({ port });
    after(() => smtp.close());
    const second = setup([emailNotifier(port)], stateDir);
    await second.sub.start();
    await waitFor("both delivered", () => second.status().delivered === 2);
    assert.deepEqual(smtp.mails.map((m) => decodedSubject(m.raw)), ["警告", "second"]);
    assert.ok(second.lines.some((l) => /pending messages found in spool/.test(l)));
  });

  it("rejects an unknown notifier name", async () => {
    const t = setup([emailNotifier(25)]);
    await assert.rejects(t.notify.send("pager", msg), { code: "E_NOTIFY_UNKNOWN" });
  });

  it("webhook: POSTs JSON, retries a 503, and is delivered once", async () => {
    const bodies: unknown[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let data = "";
      req.on("data", (c) => (data += c));
      req.on("end", () => {
        calls++;
        if (calls === 1) {
          res.writeHead(503).end("busy");
          return;
        }
        bodies.push({ body: JSON.parse(data), auth: req.headers.authorization, type: req.headers["content-type"] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    after(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const t = setup([webhookNotifier(url, { headers: { authorization: "Bearer t0ken" } })]);
    await t.sub.start();
    const id = await t.notify.send("hook", msg);
    await waitFor("delivery", () => t.status().delivered === 1);
    assert.equal(calls, 2);
    const got = bodies[0] as { body: Record<string, unknown>; auth: string; type: string };
    assert.equal(got.auth, "Bearer t0ken");
    assert.match(got.type, /application\/json/);
    assert.equal(got.body.id, id);
    assert.equal(got.body.subject, "警告");
    assert.equal(got.body.host, "lb1.test");
  });
});
