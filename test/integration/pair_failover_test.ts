// Stick tables across a failover, with the built binary on two hosts: clients stuck to servers on
// the master return to the same servers after kill -9 of the master and after SIGTERM; a restarted
// host gets the whole table; connections accepted on the VIP close when it leaves the host.

import { test } from "node:test";
import assert from "node:assert/strict";
import { canRunLab, NODE, VIP, waitFor, type Lab, type LabProcess } from "./vrrp_lab.ts";
import { ctl, fetchFrom, lastState, linkUps, poll, SOURCES, spawnLb, startPair, table, usePairLab, writeFiles } from "./pair_lab.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

usePairLab(skip, (l) => (lab = l));

const same = (a: Map<string, string>, b: Map<string, string>) => [...a].filter(([k, v]) => b.get(k) !== v).map(([k, v]) => `${k}: ${v} → ${b.get(k)}`);

test("stuck clients keep their servers after kill -9 and SIGTERM of the master; a restarted host gets the whole table", { skip, timeout: 90_000 }, async () => {
  const files = writeFiles(lab);
  const { a, b } = await startPair(lab, files);
  const first = fetchFrom(lab, SOURCES);
  assert.equal(first.size, SOURCES.length);
  const used = new Set(first.values());
  assert.deepEqual([...used].sort(), ["s1", "s2", "s3"], `clients should spread over the three servers: ${JSON.stringify([...first])}`);
  // Every entry reaches the backup within ~100 ms of being made (polled through the admin socket).
  const t = await poll(async () => (await table(lab, "lb2")).size === SOURCES.length, 2000);
  assert.ok(t >= 0, "the backup's table is incomplete");
  console.log(`# ${SOURCES.length} entries on the backup ${t.toFixed(0)} ms after the clients' last connection`);
  assert.deepEqual(same(first, await table(lab, "lb2")), [], "the backup's table differs");

  // kill -9 the master: lb2 takes the VIP and sends every known client to its server.
  a.child.kill("SIGKILL");
  await a.exited;
  assert.ok((await waitFor(() => lab.holds("lb2"), 5000)) >= 0, "lb2 did not take the VIP");
  const afterKill = fetchFrom(lab, SOURCES);
  assert.deepEqual(same(first, afterKill), [], "clients moved after kill -9");

  // lb1 comes back: it gets the whole table from lb2 (resync), then preempts.
  lab.exec("lb1", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
  const a2 = spawnLb(lab, "lb1", files[0], "master");
  assert.ok((await waitFor(() => a2.events.some((e) => e.event === "pair.resync" && e.direction === "received" && e.entries === SOURCES.length), 8000)) >= 0, `no full resync on restart:\n${a2.output()}`);
  assert.ok((await waitFor(() => lab.holds("lb1") && !lab.holds("lb2") && lastState(a2) === "master", 8000)) >= 0, "lb1 did not preempt back");
  assert.deepEqual(same(first, await table(lab, "lb1")), [], "the restarted host's table differs");
  assert.deepEqual(same(first, fetchFrom(lab, SOURCES)), [], "clients moved after lb1 came back");

  // SIGTERM the master: the same again, gracefully.
  a2.child.kill("SIGTERM");
  assert.equal(await a2.exited, 0);
  assert.ok((await waitFor(() => lab.holds("lb2"), 3000)) >= 0);
  assert.deepEqual(same(first, fetchFrom(lab, SOURCES)), [], "clients moved after SIGTERM");
  assert.ok(linkUps(b) >= 2);
});

test("a connection accepted on the VIP is closed when the VIP leaves the host (close_on_vip_loss)", { skip, timeout: 60_000 }, async () => {
  const files = writeFiles(lab);
  const { a, b } = await startPair(lab, files);
  // A client holds a connection through lb1 to s1:8082 (which never closes it).
  const js = `const s=require("node:net").connect({host:"${VIP}",port:8090});const t0=Date.now();let open=0;` +
    `s.on("data",()=>{if(!open++)console.log("open")});s.on("close",()=>console.log("closed after "+(Date.now()-t0)));s.on("error",()=>{})`;
  const client: LabProcess = lab.spawn("client", [NODE, "-e", js]);
  assert.ok((await waitFor(() => client.lines.includes("open"), 3000)) >= 0, client.output());
  const r = await ctl(lab, "lb1", "vrrp", "demote");
  assert.equal(r.code, 0, r.err);
  const t0 = performance.now();
  assert.ok((await waitFor(() => client.lines.some((l) => l.startsWith("closed")), 3000)) >= 0, `the client's connection stayed open:\n${a.output().slice(-2000)}`);
  console.log(`# connection on the VIP closed ${(performance.now() - t0).toFixed(0)} ms after vrrp demote`);
  assert.ok(a.lines.some((l) => l.includes("connection(s) accepted on 192.0.2.100: the VIP leaves")), "not logged");
  void b;
});
