// The BGP subsystem against a scripted peer over loopback, with the proxy's health and the address
// calls faked: announce while healthy, withdraw at once, the stop order, reload, and what
// `show bgp`, the JSON snapshot and /metrics report.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../src/tandem_config.ts";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Services, SubsystemContext } from "../../src/core/subsystem.ts";
import { createBgpSubsystem, type BgpIo } from "../../src/bgp/subsystem.ts";
import { systemConnector } from "../../src/runtime/tcp_connect.ts";
import { SnapshotBuilder } from "../../src/admin/snapshot.ts";
import { VrrpHistory } from "../../src/admin/vrrp_history.ts";
import { RuntimeApi } from "../../src/admin/runtime_api.ts";
import { TandemMetrics } from "../../src/admin/metrics.ts";
import { viewEvent } from "../../src/alerts/event_map.ts";
import { FakePeer, until, type PeerConnection } from "../helpers/bgp_peer.ts";
import { parseExposition } from "../helpers/formats.ts";

function configText(port: number, extra = "", peerExtra = "") {
  return `
global: { grace_period: 5s }
proxies:
  web: { bind: "203.0.113.10:80", servers: { a: { address: 127.0.0.1, port: 9000 } } }
bgp:
  local_as: 65001
  router_id: 192.0.2.11
  peers: [{ address: 127.0.0.1, port: ${port}, as: 65000${peerExtra} }]
  announce: [203.0.113.10/32]
  announce_delay: 0s
  withdraw_wait: 300ms
${extra}`;
}

async function setup(extra = "") {
  const peer = new FakePeer({ as: 65000, tandemAs: 65001 });
  const port = await peer.listen();
  const loaded = loadConfigText(configText(port, extra), "t.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.diagnostics));
  let healthy = true;
  const addresses: string[] = [];
  const bus = new EventBus();
  const events: { name: string; data: unknown }[] = [];
  bus.onAny((e) => events.push({ name: e.name, data: e.data }));
  const services: Services = {
    proxy: {
      status: () => ({}),
      serverState: () => undefined,
      healthy: () => (healthy ? { healthy: true, reason: "all listeners bound, servers up" } : { healthy: false, reason: '"web" has 0 server(s) up, needs 1' }),
    },
  };
  const ctx: SubsystemContext = { config: loaded.config, bus, clock: systemClock, log: nullLogger, services };
  const io: BgpIo = {
    connect: systemConnector(),
    addresses: { add: (v) => addresses.push(`add ${v.address} ${v.dev}`), remove: (v) => addresses.push(`remove ${v.address} ${v.dev}`) },
    hasAddress: () => false,
    sourceAddressFor: async () => "192.0.2.11",
  };
  const bgp = createBgpSubsystem(ctx, () => io);
  return { peer, port, bgp, ctx, bus, events, addresses, setHealthy: (v: boolean) => (healthy = v) };
}

/** Types of what tandem sent on a connection: OPEN, KEEPALIVE, UPDATE (refused: a loopback next hop), NOTIFICATION. */
const kinds = (c: PeerConnection) => c.received.map((m) => (m.type === "refused" ? "announce" : m.type === "update" ? (m.withdrawn.length ? "withdraw" : "update") : m.type));

test("announces while healthy, withdraws at once when not, and the admin views show it", async () => {
  const t = await setup();
  try {
    await t.bgp.start();
    assert.ok(await until(() => t.peer.last !== undefined && kinds(t.peer.last).includes("announce")), "announced");
    assert.deepEqual(t.addresses, ["add 203.0.113.10 lo"]);
    const history = new VrrpHistory(t.bus);
    const builder = new SnapshotBuilder({ services: t.ctx.services, clock: systemClock, history, version: "test" });
    const snap = builder.build(t.ctx.config);
    assert.equal(snap.bgp?.routerId, "192.0.2.11");
    assert.deepEqual(snap.bgp?.peers.map((p) => [p.peer, p.state, p.announced]), [[`127.0.0.1:${t.port}`, "established", ["203.0.113.10/32"]]]);
    const api = new RuntimeApi({ services: t.ctx.services, snapshot: () => builder.build(t.ctx.config) });
    const show = (await api.execute("show bgp")).text;
    assert.match(show, /^Local_AS: 65001\nRouter_ID: 192\.0\.2\.11\nPeers:\n/);
    assert.match(show, new RegExp(`127\\.0\\.0\\.1:${t.port} AS 65000: established since .*, hold 3s, peer ID 192\\.0\\.2\\.1, next hop 127\\.0\\.0\\.1`));
    assert.match(show, /203\.0\.113\.10\/32: announced since .*: all listeners bound, servers up \(checks web\)/);
    assert.match((await api.execute("show info")).text, /Bgp_sessions_established: 1\/1\nBgp_announced: 1\/1/);
    const fams = parseExposition(await new TandemMetrics({ defaultMetrics: false }).render(builder.build(t.ctx.config)));
    const value = (name: string, labels: Record<string, string>) => fams.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(value("tandem_bgp_session_state", { state: "established" }), 1);
    assert.equal(value("tandem_bgp_session_up", {}), 1);
    assert.equal(value("tandem_bgp_announced", { prefix: "203.0.113.10/32" }), 1);
    assert.equal(fams.get("tandem_bgp_messages_sent_total")?.type, "counter");

    t.setHealthy(false);
    t.bus.emit("proxy.health", { proxy: "web", healthy: false, reason: "no server" });
    assert.ok(await until(() => kinds(t.peer.last!).includes("withdraw")), "withdrawn");
    assert.deepEqual(t.addresses, ["add 203.0.113.10 lo", "remove 203.0.113.10 lo"]);
    const withdrawn = t.events.find((e) => e.name === "bgp.withdrawn")!;
    assert.equal(viewEvent("bgp.withdrawn", withdrawn.data as never).line, 'BGP: 203.0.113.10/32 withdrawn: "web" has 0 server(s) up, needs 1');
    assert.match((await api.execute("show bgp")).text, /203\.0\.113\.10\/32: withdrawn since .*"web" has 0 server\(s\) up/);
    history.close();
  } finally {
    await t.bgp.stop("test over");
    await t.peer.close();
  }
});

test("stop: withdraw, keep serving withdraw_wait, then the Cease; the address goes last", async () => {
  const t = await setup();
  await t.bgp.start();
  assert.ok(await until(() => t.peer.last !== undefined && kinds(t.peer.last).includes("announce")));
  const t0 = performance.now();
  let withdrawnAt = 0;
  const watch = setInterval(() => {
    if (!withdrawnAt && kinds(t.peer.last!).includes("withdraw")) withdrawnAt = performance.now();
  }, 5);
  await t.bgp.stop("SIGTERM");
  clearInterval(watch);
  const took = performance.now() - t0;
  assert.ok(withdrawnAt - t0 < 100, `withdrawn after ${withdrawnAt - t0} ms`);
  assert.ok(took >= 300, `stop took ${took} ms, withdraw_wait is 300 ms`);
  assert.ok(await until(() => t.peer.last!.closed));
  assert.deepEqual(kinds(t.peer.last!).slice(-2), ["withdraw", "notification"]);
  assert.deepEqual(t.addresses, ["add 203.0.113.10 lo", "remove 203.0.113.10 lo"]);
  const down = t.events.find((e) => e.name === "bgp.session_down")!;
  assert.match(viewEvent("bgp.session_down", down.data as never).line, /^BGP session with 127\.0\.0\.1:\d+ \(AS 65000\) is down: stopped: SIGTERM$/);
  await t.peer.close();
});

test("graceful_shutdown: the routes go out again with 65535:0 before the withdrawal (RFC 8326)", async () => {
  const t = await setup("  graceful_shutdown: 200ms\n");
  await t.bgp.start();
  assert.ok(await until(() => t.peer.last !== undefined && kinds(t.peer.last).includes("announce")));
  await t.bgp.stop("SIGTERM");
  const sent = t.peer.last!.received.filter((m) => m.type === "refused");
  assert.equal(sent.length, 2, "announced, then announced again with the community");
  const bytes = [...sent[1].bytes].join(",");
  assert.ok(bytes.includes([0xc0, 8, 4, 0xff, 0xff, 0, 0].join(",")), "COMMUNITIES [65535:0]");
  assert.deepEqual(kinds(t.peer.last!).slice(-3), ["announce", "withdraw", "notification"]);
  await t.peer.close();
});

test("reload: a changed peer is reset with Cease / Other Configuration Change; the routes follow", async () => {
  const t = await setup();
  try {
    await t.bgp.start();
    assert.ok(await until(() => t.peer.last !== undefined && kinds(t.peer.last).includes("announce")));
    const next = loadConfigText(configText(t.port, "", ", hold_time: 9s"), "t.yaml").config!;
    await t.bgp.reload(next);
    const first = t.peer.connections[0];
    assert.ok(await until(() => first.closed));
    const n = first.received.at(-1)!;
    assert.deepEqual(n.type === "notification" && [n.code, n.subcode], [6, 6]);
    assert.ok(await until(() => t.peer.connections.length === 2 && kinds(t.peer.last!).includes("announce")), "back with the new hold time");
    const open = t.peer.last!.received[0];
    assert.equal(open.type === "open" && open.holdTime, 9);
    // Same peer settings: no reset.
    await t.bgp.reload(next);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.peer.connections.length, 2);
  } finally {
    await t.bgp.stop("test over");
    await t.peer.close();
  }
});
