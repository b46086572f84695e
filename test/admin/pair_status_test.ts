// The pair as the admin side shows it: `show peer` text and the pair series in /metrics.

import { test } from "node:test";
import assert from "node:assert/strict";
import { showPeer } from "../../src/admin/pair_commands.ts";
import { TandemMetrics } from "../../src/admin/metrics.ts";
import type { PairStatus } from "../../src/pair/status.ts";
import type { PeerState } from "../../src/pair/messages.ts";
import { parseExposition } from "../helpers/formats.ts";
import { sampleSnapshot } from "./fixtures.ts";

const now = 1_800_000_000_000;
const peerState: PeerState = {
  hostname: "lb2", role: "backup", version: "0.1.0", pid: 7, startedAt: now - 600_000, sentAt: now - 400, config: { hash: "9f8e7d6c5b4a3f2e" },
  healthy: { ok: true, reason: "all listeners bound, servers up" },
  vrrp: [{ instance: "VI_1", vrid: 51, state: "backup", priority: 50, basePriority: 50, vips: ["192.0.2.100/24"], master: "192.0.2.11", track: [] }],
  proxy: { connections: 0, frontends: [{ name: "web", status: "OPEN", scur: 0 }], backends: [{ name: "web", up: 3, servers: 3, stickEntries: 12, down: [] }] },
};

function status(over: Partial<PairStatus> = {}): PairStatus {
  return {
    configured: true,
    self: { hostname: "lb1", role: "master", address: "192.0.2.11", port: 7400 },
    link: { state: "up", upSince: now - 60_000, connects: 2, refusals: 1 },
    peer: { address: "192.0.2.12", role: "backup", lastSeen: now - 400, state: peerState },
    config: { hash: "1a2b3c4d5e6f7a8b", same: false, theirs: "9f8e7d6c5b4a3f2e", keys: ["proxies.web.timeout.connect"], more: 2 },
    replication: { sentEntries: 12, receivedEntries: 3, ignoredEntries: 0, droppedKeys: 0, resyncsSent: 2, resyncsReceived: 2, pending: 0, lagMs: 61, lastResync: { direction: "sent", entries: 12, ms: 4, at: now - 60_000 } },
    splitBrain: [],
    alerts: { send: true, why: "this host holds the VIP" },
    ...over,
  };
}

test("show peer: role, VRRP, link, config same or differs with the keys, last seen", () => {
  const text = showPeer(status(), now);
  assert.match(text, /^Peer: lb2 \(192\.0\.2\.12:7400, role backup\)$/m);
  assert.match(text, /^Role: backup$/m);
  assert.match(text, /^Link: up since 2027-01-15T07:59:00\.000Z$/m);
  assert.match(text, /^Vrrp: VI_1 VRID 51 BACKUP priority 50 \(base 50\)$/m);
  assert.match(text, /^Config: differs \(ours 1a2b3c4d5e6f, theirs 9f8e7d6c5b4a\): proxies\.web\.timeout\.connect \(\+2 more\)$/m);
  assert.match(text, /^Last_seen: 0\.4s ago$/m);
  assert.match(text, /^Replication_lag: 61ms$/m);
  assert.match(text, /^Alerts: sent from this host: this host holds the VIP$/m);
  assert.match(showPeer(status({ config: { hash: "1a2b3c4d5e6f7a8b", same: true, keys: [], more: 0 } }), now), /^Config: same \(1a2b3c4d5e6f\)$/m);
  assert.match(showPeer(status({ link: { state: "connecting", connects: 0, refusals: 3, lastError: "the peer refused our key" }, peer: { address: "192.0.2.12", role: "backup" }, config: { hash: "x", keys: [], more: 0 } }), now), /^Link: connecting \(the peer refused our key\)$/m);
  assert.match(showPeer({ ...status(), configured: false }, now), /No pair link/);
});

test("metrics: link state, replication lag, drift, resyncs", async () => {
  const m = new TandemMetrics({ defaultMetrics: false });
  const fams = parseExposition(await m.render(sampleSnapshot({ pair: status() })));
  const v = (name: string, labels: Record<string, string> = {}) => fams.get(name)?.samples.find((s) => Object.entries(labels).every(([k, x]) => s.labels[k] === x))?.value;
  assert.equal(v("tandem_pair_link_up"), 1);
  assert.equal(v("tandem_pair_replication_lag_seconds"), 0.061);
  assert.equal(v("tandem_pair_config_same"), 0);
  assert.equal(v("tandem_pair_resyncs_total", { direction: "sent" }), 2);
  assert.equal(v("tandem_pair_stick_sent_total"), 12);
  assert.equal(fams.get("tandem_pair_link_refusals_total")?.type, "counter");
  assert.equal(v("tandem_pair_split_brain"), 0);
});
