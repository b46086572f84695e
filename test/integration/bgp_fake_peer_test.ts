// The built binary against a hostile peer in its own namespace: each malformed message is answered
// with the NOTIFICATION RFC 4271 §6 names, the connection closes, tandem reconnects and keeps
// serving; once the peer behaves, the VIP is announced.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, NODE, canRunLab, started, waitFor, waitLine, type LabProcess } from "./vrrp_lab.ts";

const skip = !canRunLab() && "needs root for network namespaces";
const CHILD = join(dirname(fileURLToPath(import.meta.url)), "bgp_fake_peer_child.ts");
const VIP = "203.0.113.10";
let lab: Lab;

before(() => {
  if (!skip) lab = new Lab({ peer: "192.0.2.1", node: "192.0.2.11" });
});
after(async () => {
  await lab?.destroy();
});

const events = (p: LabProcess) => p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

test("malformed messages get their NOTIFICATION and a clean reconnection; tandem never stops serving", { skip }, async () => {
  const scenarios = ["bad_update", "bad_marker", "bad_open_hold", "bad_length", "good"];
  const peer = lab.spawn("peer", [NODE, "--no-warnings", CHILD, "65000", "65001", ...scenarios]);
  assert.ok(await waitLine(peer, /"listening"/, 5000), peer.output());
  await lab.serve("node", 8081, "node", "127.0.0.1");
  const file = lab.writeConfig(`global: { state_dir: state, admin_socket: tandem.sock }
proxies:
  web: { mode: tcp, bind: "${VIP}:80", servers: { app: { address: 127.0.0.1, port: 8081, check: { interval: 200ms } } } }
bgp:
  local_as: 65001
  peers: [{ address: 192.0.2.1, as: 65000 }]
  announce: [${VIP}/32]
  announce_delay: 0s
`);
  const node = lab.spawnLb("node", file, undefined);
  await started(node);
  // Back-off after consecutive failures: 1 + 2 + 4 + 8 s before the fifth connection.
  const good = await waitFor(() => events(peer).some((e) => e.conn === 5 && e.type === "update"), 25_000, 50);
  assert.ok(good >= 0, `no announcement on the good connection:\n${peer.output()}\n${node.output().slice(-3000)}`);
  const notes = events(peer).filter((e) => e.type === "notification").map((e) => [e.conn, e.code, e.subcode]);
  assert.deepEqual(notes, [[1, 3, 11], [2, 1, 1], [3, 2, 6], [4, 1, 2]]);
  for (const c of [1, 2, 3, 4]) assert.ok(events(peer).some((e) => e.conn === c && e.type === "closed"), `connection ${c} closed`);
  const update = events(peer).find((e) => e.conn === 5 && e.type === "update")!;
  assert.deepEqual(update.nlri, [`${VIP}/32`]);
  assert.equal(update.nextHop, "192.0.2.11");
  assert.equal(node.child.exitCode, null, "tandem still runs");
  const log = node.lines.join("\n");
  assert.match(log, /bad message from the peer: UPDATE Message Error \/ Malformed AS_PATH: the path starts with AS 65099, not the peer's AS 65000/);
  assert.match(log, /Message Header Error \/ Connection Not Synchronized/);
  assert.match(log, /OPEN Message Error \/ Unacceptable Hold Time/);
  assert.match(log, /Message Header Error \/ Bad Message Length: length 5000 is out of range/);
  // The proxy served all along.
  assert.equal(lab.exec("node", [NODE, "-e", `require("net").connect(80,"${VIP}").on("data",d=>{process.stdout.write(d);process.exit(0)})`]).trim(), "node");
});
