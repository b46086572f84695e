// keepalived.conf pairs → vrrp roles: which host is master, disagreements, traps, unicast, notify, mail.

import { test } from "node:test";
import assert from "node:assert/strict";
import { importConfigs } from "../../src/import/import_configs.ts";
import { formatNote } from "../../src/import/notes.ts";
import { loadConfigText } from "../../src/tandem_config.ts";

interface Opts {
  state?: string;
  priority?: number;
  extra?: string;
  vrid?: number;
  advert?: string;
  pass?: string;
  vip?: string;
  scripts?: string;
  global?: string;
}

function conf(o: Opts): string {
  return `global_defs {
  router_id R${o.priority ?? 100}
${o.global ?? ""}
}
${o.scripts ?? ""}
vrrp_instance VI_1 {
  ${o.state ? `state ${o.state}` : ""}
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority ?? 100}
  advert_int ${o.advert ?? "1"}
  authentication {
    auth_type PASS
    auth_pass ${o.pass ?? "secret"}
  }
  virtual_ipaddress {
    ${o.vip ?? "192.0.2.10/24"}
  }
${o.extra ?? ""}
}
`;
}

function imp(a: Opts, b?: Opts, read: (p: string) => { path: string; text: string } | undefined = () => undefined) {
  const r = importConfigs({ keepalived: { path: "a.conf", text: conf(a) }, keepalivedBackup: b ? { path: "b.conf", text: conf(b) } : undefined, read });
  // The emitted section, walked freely by the assertions below.
  // deno-lint-ignore no-explicit-any
  const vrrp = r.data.vrrp as Record<string, any>;
  return { ...r, vrrp, stderr: r.notes.filter((n) => n.kind !== "info").map(formatNote) };
}

test("state MASTER decides the master, even when it is the second file", () => {
  const r = imp({ state: "BACKUP", priority: 50 }, { state: "MASTER", priority: 100 });
  assert.deepEqual(r.vrrp.roles, { master: { priority: 100 }, backup: { priority: 50, router_id: "R50" } });
  assert.equal(r.vrrp.router_id, "R100");
  assert.match(r.yaml, /--role master {3}# the host of b\.conf/);
});

test("with the same state on both hosts the higher priority is the master; state and nopreempt carry over", () => {
  const r = imp({ state: "BACKUP", priority: 100, extra: "nopreempt" }, { state: "BACKUP", priority: 150, extra: "nopreempt" });
  assert.deepEqual(r.vrrp.roles, { master: { priority: 150, state: "backup" }, backup: { priority: 100, router_id: "R100" } });
  assert.equal(r.vrrp.preempt, false);
  const loaded = loadConfigText(r.yaml, "t.yaml", "master");
  assert.equal(loaded.config!.vrrp!.instances[0].initialState, "backup");
  assert.equal(loaded.config!.vrrp!.instances[0].preempt, false);
});

test("disagreements on VRID, VIPs, advert and auth are errors with both places", () => {
  const r = imp({ state: "MASTER", priority: 100 }, { state: "BACKUP", priority: 50, vrid: 52, advert: "2", pass: "other", vip: "192.0.2.11/24" });
  assert.deepEqual(r.stderr.filter((l) => l.includes("error")).map((l) => l.replace(/ here.*/, "")), [
    "a.conf:9: error: the keepalived files disagree on virtual_router_id: 51",
    "a.conf:11: error: the keepalived files disagree on advert_int: 1s",
    "a.conf:12: error: the keepalived files disagree on authentication: PASS secret",
    "a.conf:17: error: the keepalived files disagree on virtual_ipaddress: 192.0.2.10/24",
  ]);
  assert.match(r.stderr.find((l) => l.includes("virtual_router_id"))!, /51 here, 52 in b\.conf:9; the master's is used/);
});

test("one file only: the other role's priority is assumed and said so; unicast peers are mirrored", () => {
  const r = imp({ state: "MASTER", priority: 120, extra: "unicast_src_ip 192.0.2.1\n  unicast_peer {\n    192.0.2.2\n  }" });
  assert.deepEqual(r.vrrp.roles, {
    master: { priority: 120, unicast_src: "192.0.2.1", unicast_peers: ["192.0.2.2"] },
    backup: { priority: 70, unicast_src: "192.0.2.2", unicast_peers: ["192.0.2.1"] },
  });
  assert.match(r.stderr.join("\n"), /a\.conf:10: warning: only the master's keepalived\.conf was given: the backup's priority is assumed to be 70/);
  assert.ok(loadConfigText(r.yaml, "t.yaml", "backup").config);
});

test("the weight trap is reported with the numbers, for positive and negative weights", () => {
  const scripts = `vrrp_script chk_app {\n  script "/usr/local/bin/chk_app.sh"\n  weight 2\n}\nvrrp_script chk_db {\n  script "/usr/local/bin/chk_db.sh"\n  interval 5\n  weight -30\n}\n`;
  const r = imp({ state: "MASTER", priority: 100, scripts, extra: "track_script {\n  chk_app\n  chk_db\n}" }, { state: "BACKUP", priority: 50, scripts });
  const traps = r.stderr.filter((l) => l.includes("weight trap"));
  assert.deepEqual(traps, [
    "a.conf:7: warning: weight trap: vrrp_script chk_app has weight 2, which can never move the VIP: while it fails on the master, the master has 100 and the backup 50 + 2 = 52; |weight| must exceed 100 − 50 = 50",
    "a.conf:12: warning: weight trap: vrrp_script chk_db has weight -30, which can never move the VIP: while it fails on the master, the master has 100 − 30 = 70 and the backup 50; |weight| must exceed 100 − 50 = 50",
  ]);
  // keepalived runs scripts every second by default; tandem's default differs, so it is written.
  assert.deepEqual(r.vrrp.track.scripts, {
    chk_app: { command: "/usr/local/bin/chk_app.sh", interval: "1s", weight: 2 },
    chk_db: { command: "/usr/local/bin/chk_db.sh", interval: "5s", weight: -30 },
  });
});

test("haproxy checks become track.proxy: inline commands and script files", () => {
  for (const [command, file] of [["killall -0 haproxy", undefined], ["/etc/keepalived/check.sh", "#!/bin/sh\npidof haproxy || exit 1\n"], ["/etc/keepalived/check.sh", "#!/bin/sh\nnetstat -ntlp | grep -q haproxy\n"], ["service haproxy status", undefined]] as const) {
    const scripts = `vrrp_script chk {\n  script "${command}"\n  weight -60\n}\n`;
    const r = imp({ state: "MASTER", priority: 100, scripts, extra: "track_script {\n  chk\n}" }, { state: "BACKUP", priority: 50, scripts }, () => (file ? { path: "check.sh", text: file } : undefined));
    // A process check: "alive and listening" (min_servers 0), not "every backend has a server".
    assert.deepEqual(r.vrrp.track, { proxy: { weight: -60, min_servers: 0 } }, command);
  }
});

test("notify scripts carry over; ones that drive haproxy are flagged once", () => {
  const extra = `notify_master "/etc/keepalived/n.sh master"\n  notify_backup "/etc/keepalived/n.sh backup"\n  notify_fault /etc/keepalived/fault.sh`;
  const r = imp({ state: "MASTER", extra }, { state: "BACKUP", priority: 50, extra }, (p) => (p.endsWith("n.sh") ? { path: "n.sh", text: "#!/bin/sh\nservice haproxy restart\n" } : undefined));
  assert.deepEqual(r.vrrp.notify, { master: "/etc/keepalived/n.sh master", backup: "/etc/keepalived/n.sh backup", fault: "/etc/keepalived/fault.sh" });
  assert.deepEqual(r.stderr.filter((l) => l.includes("notify")), ["a.conf:19: warning: notify_master, notify_backup run /etc/keepalived/n.sh, which starts or stops haproxy: tandem replaces haproxy, edit it before the move"]);
});

test("mail settings become a notifier; smtp_alert an alert on VRRP state changes", () => {
  const global = "notification_email {\n  ops@x.org\n}\nnotification_email_from lb@x.org\nsmtp_server 192.0.2.25 2525\nsmtp_connect_timeout 5";
  const r = imp({ state: "MASTER", global, extra: "smtp_alert" });
  assert.deepEqual(r.data.notify, { email: { smtp: { host: "192.0.2.25", port: 2525, connect_timeout: "5s" }, from: "lb@x.org", to: ["ops@x.org"] } });
  assert.deepEqual(r.data.alerts, [{ name: "vrrp-state", on: "vrrp_state_change", notify: "email" }]);
  const off = imp({ state: "MASTER", global: `${global}\nsmtp_alert false` });
  assert.equal(off.data.alerts, undefined);
});

test("what has no equivalent is listed with file:line; include is ignored with a note", () => {
  const r = importConfigs({
    keepalived: { path: "k.conf", text: "include /etc/keepalived/extra.conf\nglobal_defs {\n  vrrp_strict\n}\nvrrp_instance V {\n  interface eth0\n  virtual_router_id 9\n  use_vmac\n  virtual_ipaddress {\n    192.0.2.9\n  }\n}\nvrrp_sync_group G {\n  group {\n    V\n  }\n}\n" },
    read: () => undefined,
  });
  assert.deepEqual(r.notes.filter((n) => n.kind === "untranslated").map((n) => `${n.file}:${n.line}: ${n.directive}`), [
    "k.conf:1: include /etc/keepalived/extra.conf",
    "k.conf:3: vrrp_strict",
    "k.conf:8: use_vmac",
  ]);
  assert.ok(r.notes.some((n) => n.kind === "warning" && n.line === 13 && /vrrp_sync_group G has 1 instance: keepalived removes such a group/.test(n.message)));
});

test("values tandem would reject are fixed the way keepalived reads them, with a note", () => {
  const r = imp({ state: "MASTER", priority: 255, advert: "1.5", vip: "192.0.2.10/24\n    2001:db8::10/64" }, { state: "BACKUP", priority: 100, advert: "1.5", vip: "192.0.2.10/24\n    2001:db8::10/64" });
  assert.equal(r.vrrp.advert_interval, "2s");
  assert.deepEqual(r.vrrp.virtual_ips, ["192.0.2.10/24"]);
  assert.deepEqual(r.vrrp.roles.master, { priority: 255, address_owner: true });
  assert.match(r.stderr.join("\n"), /a\.conf:11: warning: advert_int 1\.5 is not whole seconds, which VRRPv2 needs: 2s is written/);
  assert.match(r.stderr.join("\n"), /a\.conf:18: not translated: 2001:db8::10\/64: an IPv6 address in an IPv4 instance: one VRRP instance carries one address family/);
  assert.ok(loadConfigText(r.yaml, "t.yaml", "master").config);
  const v3 = imp({ state: "MASTER", global: "vrrp_version 3" }, { state: "BACKUP", priority: 50, global: "vrrp_version 3" });
  assert.equal(v3.vrrp.authentication, undefined);
  assert.match(v3.stderr.join("\n"), /not translated: authentication: VRRPv3 has no authentication/);
  assert.ok(loadConfigText(v3.yaml, "t.yaml", "backup").config);
});
