// The systemd unit's capabilities are enough: two binaries run as an unprivileged user (nobody)
// with only the unit's AmbientCapabilities, as systemd would start them (setpriv here), elect a
// master, bind the VIP on port 80 on both hosts (the backup through ip_nonlocal_bind), move the
// VIP with gratuitous ARP after kill -9, and serve through it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, labScenario, labProxy, waitFor, started, canRunLab, VIP, type LbProcess } from "./vrrp_lab.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NOBODY = 65534;
const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

/** The capabilities the packaged unit grants (AmbientCapabilities=), as setpriv names them. */
function unitCapabilities(): string[] {
  const unit = readFileSync(join(ROOT, "packaging/deb/tandem.service"), "utf8");
  const line = /^AmbientCapabilities=(.*)$/m.exec(unit);
  assert.ok(line, "the unit has no AmbientCapabilities=");
  return line[1].trim().split(/\s+/).map((c) => c.replace(/^CAP_/, "").toLowerCase());
}

/** setpriv as systemd runs the unit: User=nobody, only the unit's capabilities, no new privileges. */
function asService(): string[] {
  const caps = ["-all", ...unitCapabilities().map((c) => `+${c}`)].join(",");
  return ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", `--inh-caps=${caps}`, `--ambient-caps=${caps}`, `--bounding-set=${caps}`, "--no-new-privs", "--"];
}

before(() => {
  if (skip) return;
  lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
  // The service user reads the config and the binary and writes its state, as under /var/lib/tandem.
  chmodSync(lab.dir, 0o755);
  for (const h of ["lb1", "lb2"]) chownSync(join(lab.dir, h), NOBODY, NOBODY);
});
after(async () => {
  await lab?.destroy();
});

function uid(p: LbProcess): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p.child.pid}/status`, "utf8"))![1]);
}

test("unprivileged with the unit's capabilities: VIP, port 80 on the VIP, nonlocal bind on the backup, GARP failover", { skip }, async () => {
  assert.deepEqual(unitCapabilities().sort(), ["net_admin", "net_bind_service", "net_raw"]);
  await lab.serve("lb1", 8081, "lb1", "127.0.0.1");
  await lab.serve("lb2", 8081, "lb2", "127.0.0.1");
  const file = lab.writeConfig(labScenario({}, {}, labProxy(80, 8081)));
  const b = lab.spawnLb("lb2", file, "backup", {}, { prefix: asService() });
  await started(b);
  const a = lab.spawnLb("lb1", file, "master", {}, { prefix: asService() });
  await started(a);
  assert.equal(uid(a), NOBODY);
  assert.equal(uid(b), NOBODY);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2"), 10_000)) >= 0, `${a.output()}\n${b.output()}`);
  // The backup listens on VIP:80 before it holds the VIP: it set the sysctl with CAP_NET_ADMIN.
  assert.equal(lab.exec("lb2", ["cat", "/proc/sys/net/ipv4/ip_nonlocal_bind"]).trim(), "1", b.output());
  assert.ok(b.events.some((e) => e.event === "listener.bound" && e.address === `${VIP}:80`), b.output());
  assert.equal(lab.exec("client", [join(ROOT, "node_modules/.bin/node"), "-e", clientJs()]).trim(), "lb1");

  a.child.kill("SIGKILL");
  assert.ok((await waitFor(() => lab.holds("lb2"), 5000, 10)) >= 0, b.output());
  assert.ok((await waitFor(() => lab.neigh("client") === lab.mac("lb2"), 2000, 10)) >= 0, "client's ARP entry did not move (gratuitous ARP as nobody)");
  assert.equal(lab.exec("client", [join(ROOT, "node_modules/.bin/node"), "-e", clientJs()]).trim(), "lb2");
  assert.equal(b.output().includes("EPERM"), false, b.output());
  b.child.kill("SIGTERM");
  assert.equal(await b.exited, 0, b.output());
  assert.equal(lab.holds("lb2"), false, "the VIP stayed after a clean stop as nobody");
});

/** A client in the client namespace: the first line from VIP:80. */
function clientJs(): string {
  return `require("net").connect({host:"${VIP}",port:80}).setEncoding("utf8").on("data",d=>{process.stdout.write(d);process.exit(0)}).on("error",e=>{console.log(e.code);process.exit(1)})`;
}

