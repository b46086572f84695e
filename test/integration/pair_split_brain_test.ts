// Split brain injected with a firewall between the hosts' adverts (the pair link still up): both
// hosts see it, one alert is mailed (by the master role), and once it ends the host that keeps the
// VIP re-sends gratuitous ARP so the client's neighbour entry points at it again.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { canRunLab, NODE, VIP, waitFor, waitLine, type Lab, type LabProcess } from "./vrrp_lab.ts";
import { ctl, fetchFrom, nft, pairYaml, SOURCES, startPair, usePairLab, writeFiles } from "./pair_lab.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const skip = !canRunLab() && "needs root for network namespaces";
const CLIENT = "192.0.2.50";
const SMTP_PORT = 2525;
let lab: Lab;

usePairLab(skip, (l) => (lab = l));

const mails = (smtp: LabProcess) => smtp.lines.filter((l) => l.startsWith('{"mail"')).map((l) => JSON.parse(l) as { subject: string; body: string });

test("split brain (adverts blocked, link up): seen on both hosts, alerted once, GARP after it ends", { skip, timeout: 90_000 }, async () => {
  const smtp = lab.spawn("client", [NODE, "--no-warnings", join(ROOT, "test/integration/smtp_child.ts"), CLIENT, String(SMTP_PORT)]);
  assert.ok(await waitLine(smtp, /"listening"/, 5000), smtp.output());
  const extra = {
    notify: { email: { smtp: { host: CLIENT, port: SMTP_PORT, security: "none", connect_timeout: "2s" }, from: "lb@example.com", to: ["ops@example.com"], retry: { initial: "200ms", max: "1s" } } },
    alerts: [{ name: "split", on: "pair_split_brain", notify: "email", group_window: "500ms" }],
  };
  const files = writeFiles(lab, pairYaml({ extra }));
  const { a, b } = await startPair(lab, files);
  fetchFrom(lab, SOURCES.slice(0, 1));
  assert.equal(lab.neigh("client"), lab.mac("lb1"));

  // lb2 no longer hears lb1's adverts: it becomes MASTER too.
  nft(lab, "lb2", "table inet noadverts {\n chain in { type filter hook input priority 0; ip protocol 112 drop; }\n}\n");
  const seen = (p: typeof a) => p.events.some((e) => e.event === "pair.split_brain");
  assert.ok((await waitFor(() => lab.holds("lb1") && lab.holds("lb2") && seen(a) && seen(b), 10_000)) >= 0, `no split brain seen on both:\n${a.output().slice(-2000)}`);
  assert.ok((await waitFor(() => mails(smtp).length >= 1, 10_000)) >= 0, `no mail:\n${smtp.output()}`);
  assert.match(mails(smtp)[0].body, /split brain: this host and \S+ are both MASTER for VRID 51 \(VI_1\)/);
  assert.match((await ctl(lab, "lb1", "show", "peer")).out, /^Split_brain: VI_1 VRID 51 since /m);
  // The other host left it to the master role.
  assert.ok((await waitFor(() => b.lines.some((l) => l.includes("alert left to the peer")), 5000)) >= 0, "lb2 did not leave the alert to lb1");
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(mails(smtp).length, 1, `alerted more than once:\n${mails(smtp).map((m) => m.subject).join("\n")}`);

  // The client was last told lb2 has the VIP; the firewall goes, lb2 yields, lb1 re-announces it.
  lab.exec("client", ["ip", "neigh", "replace", VIP, "lladdr", lab.mac("lb2"), "dev", "eth0", "nud", "stale"]);
  lab.exec("lb2", ["nft", "delete", "table", "inet", "noadverts"]);
  const ended = (p: typeof a) => p.events.some((e) => e.event === "pair.split_brain_ended");
  assert.ok((await waitFor(() => !lab.holds("lb2") && ended(a) && ended(b), 8000)) >= 0, `the split brain did not end:\n${b.output().slice(-1500)}`);
  assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb1"), 3000)) >= 0, "no gratuitous ARP from lb1 after the split brain");
  assert.equal(fetchFrom(lab, SOURCES.slice(0, 1)).size, 1);
});
