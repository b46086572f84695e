// The seed's alerts in the namespace failover: the vip-lost job (baojing.sh from crontab) and
// keepalived-style state-change mail, from the built binaries to an SMTP server in the client namespace.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labScenario, labProxy, waitFor, waitLine, started, canRunLab, NODE, VIP, type LabProcess } from "./vrrp_lab.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const skip = !canRunLab() && "needs root for network namespaces";
const CLIENT = "192.0.2.50";
const SMTP_PORT = 2525;
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: CLIENT });
});
after(async () => {
  await lab?.destroy();
});

interface Mail {
  subject: string;
  body: string;
  to: string[];
}

/** The mails the SMTP child printed so far. */
function mails(smtp: LabProcess): Mail[] {
  return smtp.lines.filter((l) => l.startsWith('{"mail"')).map((l) => JSON.parse(l) as Mail);
}

/** The seed's notify and alerts sections (shared/reference/exchange.yaml), pointed at the lab. */
function alertSections(): Record<string, unknown> {
  return {
    notify: {
      email: {
        smtp: { host: CLIENT, port: SMTP_PORT, security: "none", connect_timeout: "2s" },
        from: "aaa@abc.example",
        to: ["xxxx@abc.example"],
        retry: { initial: "200ms", max: "1s" },
      },
    },
    alerts: [
      { name: "vip-lost", schedule: "@every 1s", roles: ["master"], check: { vip_held: VIP }, notify: "email", subject: "警告", message: "exkeepalive lb1 is down" },
      { name: "vrrp-state", on: "vrrp_state_change", notify: "email" },
    ],
  };
}

test("master loses the VIP (its proxy fails): vip-lost mails 警告, state changes are mailed, recovery mails RESOLVED", { skip }, async () => {
  const smtp = lab.spawn("client", [NODE, "--no-warnings", join(ROOT, "test/integration/smtp_child.ts"), CLIENT, String(SMTP_PORT)]);
  assert.ok(await waitLine(smtp, /"listening"/, 5000), `SMTP server did not start:\n${smtp.output()}`);
  let app1 = await lab.serve("lb1", 8081, "app-lb1", "127.0.0.1");
  await lab.serve("lb2", 8081, "app-lb2", "127.0.0.1");
  const track = { interfaces: [], proxy: { weight: 0, minServers: 1 }, scripts: [] };
  const file = lab.writeConfig(labScenario({ track }, {}, { ...labProxy(8080, 8081), ...alertSections() }));
  const b = lab.spawnLb("lb2", file, "backup");
  await started(b);
  const a = lab.spawnLb("lb1", file, "master");
  await started(a);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 5000)) >= 0, a.output());
  // Several job runs while lb1 holds the VIP: no alarm; the startup transitions are mailed.
  await new Promise((r) => setTimeout(r, 4000));
  assert.deepEqual(mails(smtp).filter((m) => m.subject.includes("警告")), [], "vip-lost fired while lb1 held the VIP");
  assert.ok(mails(smtp).some((m) => m.body.includes("→ MASTER")), `no state-change mail at startup:\n${smtp.output()}`);
  const before = mails(smtp).length;

  // lb1's only server dies: its proxy is unhealthy, track.proxy (weight 0) → FAULT, lb2 takes the VIP.
  app1.child.kill("SIGKILL");
  assert.ok((await waitFor(() => lab.holds("lb2") && !lab.holds("lb1"), 3000)) >= 0, `no failover:\n${a.output()}`);
  const lost = await waitFor(() => mails(smtp).some((m) => m.subject === "警告"), 8000);
  assert.ok(lost >= 0, `no 警告 mail:\n${smtp.output()}\n${a.output()}`);
  const alarm = mails(smtp).find((m) => m.subject === "警告")!;
  assert.match(alarm.body, /exkeepalive lb1 is down/);
  assert.match(alarm.body, new RegExp(VIP.replaceAll(".", "\\.")));
  assert.deepEqual(alarm.to, ["xxxx@abc.example"]);
  const changed = (text: string) => mails(smtp).slice(before).some((m) => m.body.includes(text));
  assert.ok((await waitFor(() => changed("MASTER → FAULT") && changed("BACKUP → MASTER"), 8000)) >= 0, `state-change mails missing:\n${smtp.output()}`);
  console.log(`# 警告 mail ${lost.toFixed(0)} ms after the VIP moved; ${mails(smtp).length - before} mail(s) since the failure`);

  // The server returns: lb1 preempts back, the job recovers and says so once.
  app1 = await lab.serve("lb1", 8081, "app-lb1", "127.0.0.1");
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 5000)) >= 0, a.output());
  assert.ok((await waitFor(() => mails(smtp).some((m) => m.subject === "[RESOLVED] 警告"), 8000)) >= 0, `no RESOLVED mail:\n${smtp.output()}`);
  assert.equal(mails(smtp).filter((m) => m.subject === "警告").length, 1, "the alarm was sent more than once");
  // Event mails carry wall-clock times (they once showed the monotonic clock: 1970-01-01).
  const year = String(new Date().getUTCFullYear());
  for (const m of mails(smtp).filter((x) => x.body.includes("VRRP VI_1:"))) assert.ok(m.body.startsWith(year), m.body);
});
