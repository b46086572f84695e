// The pair link between two built binaries in namespaces: a peer with another key is refused (and
// nothing crashes); a cut link (nft drop between the hosts) heals and loses no stick entry; config
// drift is reported on both hosts and clears when the files match again.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { canRunLab, waitFor, type Lab } from "./vrrp_lab.ts";
import { ctl, fetchFrom, linkUps, nft, pairYaml, poll, SOURCES, spawnLb, startPair, table, usePairLab, writeFiles } from "./pair_lab.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

usePairLab(skip, (l) => (lab = l));

test("a peer with another key is refused on both hosts, logged, and both keep running", { skip, timeout: 60_000 }, async () => {
  const [fa, fb] = writeFiles(lab);
  writeFileSync(fb, readFileSync(fb, "utf8").replace(/key: \S+/, "key: another-key-of-decent-length-000"));
  const b = spawnLb(lab, "lb2", fb, "backup");
  const a = spawnLb(lab, "lb1", fa, "master");
  const refused = (p: typeof a) => p.events.some((e) => e.event === "pair.refused");
  assert.ok((await waitFor(() => refused(a) && refused(b), 10_000)) >= 0, `no refusal:\n${a.output().slice(-1500)}\n${b.output().slice(-1500)}`);
  assert.ok(b.lines.some((l) => l.includes("does not hold the pair key")), "the listening host does not say why");
  assert.ok(a.lines.some((l) => l.includes("pair.key differs")), "the dialing host does not say why");
  const peer = await ctl(lab, "lb2", "show", "peer");
  assert.match(peer.out, /^Link: waiting/m);
  assert.equal(linkUps(a) + linkUps(b), 0);
  // Still serving: both processes run, the VIP is held.
  assert.equal(a.child.exitCode ?? b.child.exitCode, null);
  assert.ok((await waitFor(() => lab.holds("lb1") !== lab.holds("lb2"), 5000)) >= 0, "nobody holds the VIP");
});

test("the link cut by a firewall and healed loses no stick entry", { skip, timeout: 90_000 }, async () => {
  const files = writeFiles(lab, pairYaml({ pair: { timeout: "1s" } }));
  const { a } = await startPair(lab, files);
  const early = SOURCES.slice(0, 8);
  fetchFrom(lab, early);
  assert.ok((await poll(async () => (await table(lab, "lb2")).size === early.length, 3000)) >= 0);
  // Drop the pair port between the hosts (VRRP adverts still pass).
  nft(lab, "lb2", "table inet cut {\n chain in { type filter hook input priority 0; tcp dport 7400 drop; tcp sport 7400 drop; }\n}\n");
  assert.ok((await waitFor(() => a.events.some((e) => e.event === "pair.link_down"), 6000)) >= 0, "the link did not go down");
  const late = SOURCES.slice(8);
  const seen = fetchFrom(lab, late);
  assert.equal(seen.size, late.length);
  assert.equal((await table(lab, "lb2")).size, early.length, "entries crossed a cut link?");
  lab.exec("lb2", ["nft", "delete", "table", "inet", "cut"]);
  const healed = await waitFor(() => linkUps(a) >= 2, 15_000);
  assert.ok(healed >= 0, `the link did not come back:\n${a.output().slice(-1500)}`);
  console.log(`# link back ${healed.toFixed(0)} ms after the firewall was lifted`);
  assert.ok((await poll(async () => (await table(lab, "lb2")).size === SOURCES.length, 5000)) >= 0, "entries made while the link was cut did not arrive");
  const t2 = await table(lab, "lb2");
  for (const [src, server] of seen) assert.equal(t2.get(src), server, src);
});

test("config drift is reported on both hosts with the differing keys, on the stats page and in /metrics, and clears when the files match", { skip, timeout: 60_000 }, async () => {
  const files = writeFiles(lab, pairYaml({ extra: { stats: { bind: "127.0.0.1:8404" } } }));
  const { a, b } = await startPair(lab, files);
  const original = readFileSync(files[1], "utf8");
  assert.ok(original.includes("connect: 500ms"));
  writeFileSync(files[1], original.replace("connect: 500ms", "connect: 700ms"));
  assert.equal((await ctl(lab, "lb2", "reload")).code, 0);
  const drift = (p: typeof a) => p.events.filter((e) => e.event === "pair.config_drift");
  assert.ok((await waitFor(() => drift(a).length === 1 && drift(b).length === 1, 5000)) >= 0, `no drift reported:\n${a.output().slice(-1500)}`);
  assert.deepEqual(drift(a)[0].keys, ["proxies.web.timeout.connect"]);
  assert.deepEqual(drift(b)[0].keys, ["proxies.web.timeout.connect"]);
  const peer = await ctl(lab, "lb1", "show", "peer");
  assert.match(peer.out, /^Config: differs \(ours \w+, theirs \w+\): proxies\.web\.timeout\.connect$/m);
  assert.match(peer.out, /^Role: backup$/m);
  assert.match(peer.out, /^Vrrp: VI_1 VRID 51 BACKUP priority 50/m);
  assert.match(peer.out, /^Link: up since /m);
  assert.match(peer.out, /^Last_seen: \d+\.\ds ago$/m);
  // One view of the pair: ;json carries the peer's summary and the drift; /metrics the link and drift.
  const json = JSON.parse(lab.exec("lb1", ["curl", "-sf", "http://127.0.0.1:8404/;json"])) as { pair: { config: { same: boolean; keys: string[] }; peer: { state: { role: string; vrrp: { state: string }[] } }; link: { state: string } } };
  assert.equal(json.pair.link.state, "up");
  assert.equal(json.pair.config.same, false);
  assert.deepEqual(json.pair.config.keys, ["proxies.web.timeout.connect"]);
  assert.equal(json.pair.peer.state.role, "backup");
  assert.equal(json.pair.peer.state.vrrp[0].state, "backup");
  const metrics = lab.exec("lb1", ["curl", "-sf", "http://127.0.0.1:8404/metrics"]);
  assert.match(metrics, /^tandem_pair_link_up 1$/m);
  assert.match(metrics, /^tandem_pair_config_same 0$/m);
  assert.match(metrics, /^tandem_pair_peer_last_seen_timestamp_seconds /m);
  writeFileSync(files[1], original);
  assert.equal((await ctl(lab, "lb2", "reload")).code, 0);
  const same = (p: typeof a) => p.events.some((e) => e.event === "pair.config_same");
  assert.ok((await waitFor(() => same(a) && same(b), 5000)) >= 0, "the drift did not clear");
  assert.match((await ctl(lab, "lb1", "show", "peer")).out, /^Config: same \(\w{12}\)$/m);
});
