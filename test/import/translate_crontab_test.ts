// crontab → alerts: VIP mailers become vip_held/vip_not_held, other jobs command checks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { importConfigs } from "../../src/import/import_configs.ts";
import { vipMailer, proxyCheck } from "../../src/import/shell_scripts.ts";
import { loadConfigText } from "../../src/tandem_config.ts";

test("the seed's baojing.sh is a VIP-missing mailer", () => {
  const m = vipMailer('#!/bin/bash\n/sbin/ip a |grep 192.168.8.248 &> /dev/null\nA=`echo $?`\nif [ $A -ne 0 ];then\necho "exkeepalive8.233 is down"|mail -s "警告" xxx@abc.com\nfi\n');
  assert.deepEqual(m, { vip: "192.168.8.248", when: "missing", recipients: ["xxx@abc.com"], usesIfconfig: false, subject: "警告", message: "exkeepalive8.233 is down" });
});

test("other VIP mailer shapes: || mail, if grep then mail, ifconfig, $(hostname)", () => {
  assert.equal(vipMailer("ip addr show | grep -q 10.0.0.5 || echo lost | mail root")!.when, "missing");
  const present = vipMailer('if ip -4 addr | grep -q "10.0.0.5/"; then\n  echo "on $(hostname)" | mailx -r lb@x -s "VIP on `hostname`" a@x b@x\nfi')!;
  assert.deepEqual([present.when, present.subject, present.message, present.recipients], ["present", "VIP on {host}", "on {host}", ["a@x", "b@x"]]);
  assert.equal(vipMailer("ifconfig | grep 10.0.0.5 || mail -s x root < /dev/null")!.usesIfconfig, true);
  assert.equal(vipMailer("ip a | grep 10.0.0.5"), undefined);
  assert.equal(vipMailer("echo hi | mail root"), undefined);
});

test("haproxy process checks are recognised, comments are not", () => {
  assert.deepEqual(proxyCheck("#!/bin/bash\nnetstat -tupln |grep haproxy >>null\nservice haproxy start\n"), { evidence: "netstat -tupln |grep haproxy", restarts: true });
  assert.equal(proxyCheck("# killall -0 haproxy\ncurl -fs http://127.0.0.1/health"), undefined);
  assert.equal(proxyCheck("systemctl is-active --quiet haproxy")!.restarts, false);
});

test("jobs become alerts; without keepalived mail, cron's own mail becomes the notifier", () => {
  const scripts: Record<string, string> = { "vip.sh": "ifconfig | grep 192.0.2.10 > /dev/null || echo gone | mail -s lost ops@x.org\n" };
  const r = importConfigs({
    crontab: { path: "cron", text: "MAILTO=ops@x.org\n*/5 * * * * /opt/vip.sh\n0 2 * * * /usr/bin/backup --full\n@reboot /opt/warm.sh\n0 3 * * * echo x%y\n" },
    read: (p) => (scripts[p.split("/").pop()!] ? { path: p.split("/").pop()!, text: scripts[p.split("/").pop()!] } : undefined),
  });
  assert.deepEqual(r.data.notify, { email: { smtp: { host: "127.0.0.1", port: 25 }, from: "tandem@localhost", to: ["ops@x.org"] } });
  assert.deepEqual(r.data.alerts, [
    { name: "vip-lost", schedule: "*/5 * * * *", roles: ["master"], check: { vip_held: "192.0.2.10" }, notify: "email", subject: "lost", message: "gone" },
    { name: "cron-backup", schedule: "0 2 * * *", check: { command: "/usr/bin/backup --full" }, notify: "email" },
  ]);
  const lines = r.notes.filter((n) => n.kind !== "info").map((n) => `${n.line} ${n.kind} ${n.directive ?? n.message.slice(0, 30)}`);
  assert.deepEqual(lines, ["2 warning vip.sh reads ifconfig, which d", "4 untranslated @reboot /opt/warm.sh", "5 untranslated 0 3 * * * echo x%y"]);
  // No vrrp section here; the check and the notifier still load.
  assert.ok(loadConfigText(r.yaml, "t.yaml", "master").config);
});
