// The alerts subsystem end to end: crontab-style jobs through the real spool and SMTP, event rules with a FakeClock.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { AlertRule } from "../../src/alerts/config.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { FakeClock, systemClock } from "../../src/core/clock.ts";
import { type AnyEvent, EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Services } from "../../src/core/subsystem.ts";
import type { OutgoingMessage } from "../../src/notify/queue.ts";
import { createAlertsSubsystem, type RuleStatus } from "../../src/alerts/subsystem.ts";
import { createNotifySubsystem } from "../../src/notify/subsystem.ts";
import { decodedBody, decodedSubject, emailNotifier, startSmtp, testConfig } from "../notify/smtp_fixture.ts";

const root = mkdtempSync(join(tmpdir(), "tandem-alerts-"));

function rule(r: Partial<AlertRule> & { name: string }): AlertRule {
  return { filter: {}, notify: ["email"], groupWindow: 0, flap: { window: 0, threshold: 0 }, ...r };
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Alerts with a capturing notify service on a FakeClock (event rules need no real time). */
function fakeSetup(alerts: AlertRule[], extra: Partial<TandemConfig> = {}) {
  const clock = new FakeClock(0, Date.UTC(2026, 0, 1));
  const bus = new EventBus({ wallNow: () => clock.wallNow() });
  const sent: { notifier: string; message: OutgoingMessage }[] = [];
  const services: Services = {
    notify: { status: () => ({}), send: async (notifier, message) => (sent.push({ notifier, message }), `id${sent.length}`) },
  };
  const config = testConfig(join(root, "unused"), { alerts, ...extra });
  // The host's interfaces are injected so the VIP checks do not depend on the test machine.
  const interfaces = () => ({ lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4" as const, mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" }] });
  const sub = createAlertsSubsystem({ config, bus, clock, log: nullLogger, services }, { interfaces });
  return { clock, bus, sent, sub, status: () => (services.alerts!.status() as { rules: RuleStatus[] }).rules };
}

describe("alerts subsystem", () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it("a crontab-style command job that fails and recovers sends two mails, with exit code and output", async () => {
    const smtp = await startSmtp();
    after(() => smtp.close());
    const flag = join(root, "disk-full");
    const config = testConfig(join(root, "state1"), {
      notifiers: [emailNotifier(smtp.port)],
      alerts: [
        rule({
          name: "disk",
          schedule: "@every 40ms",
          check: { command: `if [ -e '${flag}' ]; then echo 'disk 97% full'; exit 2; fi; echo ok`, timeout: 2000 },
          subject: "磁盘告警 {host}",
          message: "{rule} on {host}: {output}",
        }),
      ],
    });
    const bus = new EventBus();
    const events: AnyEvent[] = [];
    bus.onAny((e) => events.push(e));
    const services: Services = {};
    const ctx = { config, bus, clock: systemClock, log: nullLogger, services };
    const notify = createNotifySubsystem(ctx);
    const alerts = createAlertsSubsystem(ctx);
    await notify.start();
    await alerts.start();
    after(async () => {
      await alerts.stop("test end");
      await notify.stop("test end");
    });
    const status = () => (services.alerts!.status() as { rules: RuleStatus[] }).rules[0];
    await waitFor("two ok runs", () => (status().runs ?? 0) >= 2);
    assert.equal(smtp.mails.length, 0);
    writeFileSync(flag, "");
    await waitFor("failure mail", () => smtp.mails.length === 1);
    await waitFor("more failing runs", () => status().lastResult === "command exited 2" && (status().runs ?? 0) >= 6);
    unlinkSync(flag);
    await waitFor("resolved mail", () => smtp.mails.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(smtp.mails.length, 2);
    const [fail, ok] = smtp.mails.map((m) => ({ subject: decodedSubject(m.raw), body: decodedBody(m.raw) }));
    assert.equal(fail.subject, "磁盘告警 lb1.test");
    assert.match(fail.body, /^disk on lb1.test: disk 97% full/);
    assert.match(fail.body, /exit code: 2/);
    assert.match(fail.body, /output:\ndisk 97% full/);
    assert.equal(ok.subject, "[RESOLVED] 磁盘告警 lb1.test");
    assert.match(ok.body, /RESOLVED/);
    assert.match(ok.body, /exit code: 0/);
    assert.ok(events.some((e) => e.name === "job.failed" && (e.data as { job: string }).job === "disk"));
    assert.ok(events.some((e) => e.name === "job.ok"));
    assert.equal(status().sent, 2);
  });

  it("the seed's vip-lost job mails 警告 on the master when the VIP is not held; a backup-only rule stays idle", async () => {
    const t = fakeSetup([
      rule({ name: "vip-lost", schedule: "* * * * *", timezone: "UTC", roles: ["master"], check: { vip_held: "192.168.8.248" }, subject: "警告", message: "exkeepalive8.233 is down" }),
      rule({ name: "backup-only", schedule: "* * * * *", roles: ["backup"], check: { vip_not_held: "192.168.8.248" } }),
    ]);
    await t.sub.start();
    t.clock.advance(60_000);
    await waitFor("message", () => t.sent.length === 1);
    assert.equal(t.sent[0].message.subject, "警告");
    assert.match(t.sent[0].message.text, /^exkeepalive8.233 is down\n/);
    assert.match(t.sent[0].message.text, /192.168.8.248 is not on any interface/);
    t.clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.sent.length, 1, "still failing: no second mail without repeat");
    const [vip, backup] = t.status();
    assert.equal(vip.state, "failing");
    assert.equal(vip.nextRunAt, "2026-01-01T00:03:00.000Z");
    assert.deepEqual([backup.active, backup.inactiveReason], [false, "only for role backup"]);
    await t.sub.stop("end");
  });

  it("groups VRRP state changes inside the window into one message, filtered by state", async () => {
    const t = fakeSetup([rule({ name: "vrrp-state", on: "vrrp_state_change", groupWindow: 5000, filter: { states: ["master", "fault"] }, subject: "VRRP {state} on {host}" })]);
    await t.sub.start();
    const ev = (to: string) => t.bus.emit("vrrp.state", { instance: "VI_1", from: "backup", to, priority: 100, reason: "peer silent", vips: ["192.168.8.248"] });
    ev("master");
    t.clock.advance(1000);
    ev("backup"); // filtered out
    ev("fault");
    ev("master");
    t.clock.advance(3999);
    assert.equal(t.sent.length, 0);
    t.clock.advance(1);
    assert.equal(t.sent.length, 1);
    const m = t.sent[0].message;
    assert.equal(m.subject, "VRRP MASTER on lb1.test (+2 more)");
    assert.match(m.text, /BACKUP → MASTER .*VIPs 192.168.8.248.*\(×2\)/);
    assert.match(m.text, /BACKUP → FAULT/);
    assert.doesNotMatch(m.text, /→ BACKUP/);
    assert.equal(m.source, "vrrp-state");
    await t.sub.stop("end");
  });

  it("VRRP events carry the instance and sync group: filtered by them, named in the message", async () => {
    const t = fakeSetup([
      rule({ name: "api-only", on: "vrrp_state_change", filter: { instance: "api" }, subject: "{instance} {state}", message: "{instance} on {host}: {state}" }),
      rule({ name: "group", on: "vrrp_group_change", filter: { group: "WWW" }, subject: "group {group} {state}" }),
    ]);
    await t.sub.start();
    t.bus.emit("vrrp.state", { instance: "www4", from: "backup", to: "master", priority: 150, reason: "x", vips: ["192.0.2.100"], group: "WWW" });
    t.bus.emit("vrrp.state", { instance: "api", from: "master", to: "backup", priority: 100, reason: "higher priority master 192.0.2.12", vips: ["192.0.2.101"] });
    t.bus.emit("vrrp.group", { group: "WWW", from: "backup", to: "master", instances: ["www4", "www6"], reason: "sync group WWW: every member can be MASTER", vips: ["192.0.2.100/24", "2001:db8::100/64"] });
    t.bus.emit("vrrp.group", { group: "OTHER", from: "backup", to: "master", instances: ["a", "b"], reason: "x", vips: [] });
    await waitFor("two messages", () => t.sent.length === 2);
    const subjects = t.sent.map((x) => x.message.subject).sort();
    assert.deepEqual(subjects, ["api BACKUP", "group WWW MASTER"]);
    const api = t.sent.find((x) => x.message.subject === "api BACKUP")!.message;
    assert.match(api.text, /^api on lb1\.test: BACKUP/m);
    const group = t.sent.find((x) => x.message.subject.startsWith("group"))!.message;
    assert.match(group.text, /VRRP sync group WWW \(www4, www6\): BACKUP → MASTER, VIPs 192\.0\.2\.100\/24, 2001:db8::100\/64/);
    await t.sub.stop("end");
  });

  it("filters server events by proxy and rate-limits them per rule", async () => {
    const t = fakeSetup([rule({ name: "down", on: "server_down", filter: { proxy: "Exchange2010" }, rateLimit: { count: 2, per: 60_000 }, message: "{proxy}/{server} {state}" })]);
    await t.sub.start();
    for (const s of ["CAS0", "CAS1", "CAS2"]) t.bus.emit("server.down", { proxy: "Exchange2010", server: s, reason: "L4 timeout" });
    t.bus.emit("server.down", { proxy: "other", server: "x", reason: "L4 timeout" });
    assert.equal(t.sent.length, 2);
    assert.match(t.sent[0].message.text, /^Exchange2010\/CAS0 DOWN/);
    t.clock.advance(60_000);
    t.bus.emit("server.down", { proxy: "Exchange2010", server: "CAS0", reason: "L4 timeout" });
    assert.equal(t.sent.length, 3);
    assert.match(t.sent[2].message.text, /1 earlier event\(s\) for this rule were held back/);
    assert.equal(t.status()[0].suppressed, 1);
    await t.sub.stop("end");
  });

  it("flushes an open group when stopping, so a tandem_stopping notice is not lost", async () => {
    const t = fakeSetup([rule({ name: "lifecycle", on: "tandem_stopping", groupWindow: 10_000 })]);
    await t.sub.start();
    t.bus.emit("tandem.stopping", { role: "master", reason: "SIGTERM" });
    assert.equal(t.sent.length, 0);
    await t.sub.stop("SIGTERM");
    assert.equal(t.sent.length, 1);
    assert.match(t.sent[0].message.text, /tandem stopping \(master\): SIGTERM/);
  });

  it("reports an unknown event name as an inactive rule instead of failing", async () => {
    const t = fakeSetup([rule({ name: "typo", on: "vrrp_state_chnage" })]);
    await t.sub.start();
    assert.deepEqual([t.status()[0].active, t.status()[0].inactiveReason], [false, 'unknown event "vrrp_state_chnage"']);
    await t.sub.stop("end");
  });
});
