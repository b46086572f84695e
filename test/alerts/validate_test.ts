// `--check` of alert rules and notifiers: the alerts and notify sections report every problem
// with its path. (These checks were once a second validator beside the loader's; the messages are
// the loader's, which were the ones --check printed.)

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfigText } from "../../src/tandem_config.ts";

const issues = (yaml: string) => loadConfigText(yaml, "t.yaml").diagnostics.map((d) => `${d.severity} ${d.path.join(".")}: ${d.message}`);

describe("validate alerts", () => {
  it("accepts the seed's rules", () => {
    const yaml = `
notify:
  email: { smtp: { host: 127.0.0.1, port: 25 }, from: lb@example.com, to: ops@example.com }
alerts:
  - { name: vip-lost, schedule: "* * * * *", roles: [master], check: { vip_held: 192.168.8.248 }, notify: email, subject: 警告, message: exkeepalive8.233 is down }
  - { name: vrrp-state, on: vrrp_state_change, notify: email }
`;
    assert.deepEqual(issues(yaml), []);
  });

  it("reports every problem with its path", () => {
    const yaml = `
notify:
  email: { smtp: { host: 127.0.0.1, port: 25 }, from: lb@example.com, to: [] }
  hook: { url: "ftp://x" }
alerts:
  - { name: a, schedule: "* * * *", notify: mail, check: { tcp_connect: nohost, timeout: 1 } }
  - { name: a, on: server_down, notify: email, subject: "{hostname}" }
  - { name: c, notify: email }
  - { name: d, schedule: "@every 1m", timezone: Nowhere/City, check: { command: "true", timeout: 1 }, notify: email }
  - { name: e, on: vrrp_change, notify: email }
`;
    const found = issues(yaml);
    const has = (re: RegExp) => assert.ok(found.some((l) => re.test(l)), `missing ${re}\n${found.join("\n")}`);
    has(/^error alerts.0.notify.0: unknown notifier "mail"/);
    has(/^error alerts.0.schedule: Invalid schedule "\* \* \* \*"/);
    has(/^error alerts.0.check.tcp_connect: "nohost"/);
    has(/^error alerts.1.name: alert "a" is defined twice/);
    has(/^warning alerts.1.subject: unknown placeholder \{hostname\}/);
    has(/^error alerts.2: alert "c" needs exactly one of/);
    has(/^error notify.email.to: notifier "email" has no recipient/);
    has(/^error notify.hook.url: "ftp:\/\/x" must be an http/);
    has(/^error alerts.3.timezone: Invalid time zone "Nowhere\/City"/);
    has(/^error alerts.4.on: /);
  });
});
