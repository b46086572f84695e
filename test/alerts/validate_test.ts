// `--check` validation of alert rules and notifiers.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AlertRule } from "../../src/config/types.ts";
import { validateAlerts } from "../../src/alerts/validate.ts";
import { emailNotifier, testConfig, webhookNotifier } from "../notify/smtp_fixture.ts";

function rule(r: Partial<AlertRule> & { name: string }): AlertRule {
  return { filter: {}, notify: ["email"], groupWindow: 0, flap: { window: 0, threshold: 0 }, ...r };
}

describe("validate alerts", () => {
  it("accepts the seed's rules", () => {
    const config = testConfig("/var/lib/tandem", {
      notifiers: [emailNotifier(25)],
      alerts: [
        rule({ name: "vip-lost", schedule: "* * * * *", roles: ["master"], check: { vip_held: "192.168.8.248" }, subject: "警告", message: "exkeepalive8.233 is down" }),
        rule({ name: "vrrp-state", on: "vrrp_state_change" }),
      ],
    });
    assert.deepEqual(validateAlerts(config), []);
  });

  it("reports every problem with its path", () => {
    const config = testConfig("/var/lib/tandem", {
      notifiers: [emailNotifier(25, { to: [] }), webhookNotifier("ftp://x")],
      alerts: [
        rule({ name: "a", schedule: "* * * *", notify: ["mail"], check: { tcp_connect: "nohost", timeout: 1 } }),
        rule({ name: "a", on: "vrrp_change", subject: "{hostname}" }),
        rule({ name: "c" }),
        rule({ name: "d", schedule: "@every 1m", timezone: "Nowhere/City", check: { command: "true", timeout: 1 } }),
      ],
    });
    const issues = validateAlerts(config).map((i) => `${i.severity} ${i.path.join(".")}: ${i.message}`);
    const has = (re: RegExp) => assert.ok(issues.some((l) => re.test(l)), `missing ${re}\n${issues.join("\n")}`);
    has(/^error alerts.0.notify.0: unknown notifier "mail" \(configured: "email", "hook"\)/);
    has(/^error alerts.0.schedule: Invalid schedule "\* \* \* \*"/);
    has(/^error alerts.0.check.tcp_connect: "nohost"/);
    has(/^error alerts.1.name: duplicate rule name "a"/);
    has(/^error alerts.1.on: unknown event "vrrp_change"/);
    has(/^warning alerts.1.subject: unknown placeholder \{hostname\}/);
    has(/^error alerts.2: rule "c" needs exactly one of/);
    has(/^error notify.email.to: notifier "email" has no recipient/);
    has(/^error notify.hook.url: "ftp:\/\/x" must be an http/);
    has(/^error alerts.3.schedule: Invalid time zone "Nowhere\/City"/);
  });
});
