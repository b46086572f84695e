// Tests for the announcer with a fake clock: announce_delay, health gating on events and polls,
// the address added before the announcement and removed after the withdrawal, the stop sequence.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import { Announcer } from "../../src/bgp/announcer.ts";
import type { BgpConfig } from "../../src/bgp/config.ts";
import type { WantedRoute } from "../../src/bgp/fsm.ts";
import { COMMUNITY } from "../../src/bgp/update.ts";

const VIP = "203.0.113.10";

function config(over: Partial<BgpConfig> = {}): BgpConfig {
  return {
    localAs: 65001, peers: [], communities: [65001 * 65536 + 1], largeCommunities: [], localPref: 100, interface: "lo",
    announce: [{ prefix: { address: VIP, prefix: 32, family: 4 }, proxies: ["web"] }],
    announceDelay: 2000, withdrawWait: 2000, gracefulShutdown: 0,
    ...over,
  };
}

function harness(cfg = config(), o: { leftover?: boolean; vrrp?: { vips: string[]; isMaster(): boolean } } = {}) {
  const clock = new FakeClock();
  const bus = new EventBus();
  const trail: string[] = [];
  let healthy = true;
  const local = new Set<string>(o.leftover ? [VIP] : []);
  const routes: WantedRoute[][] = [];
  const events: string[] = [];
  bus.onAny((e) => events.push(`${e.name} ${(e.data as { prefix?: string }).prefix ?? ""}`.trim()));
  const a = new Announcer(cfg, {
    clock, bus, log: nullLogger, vrrp: o.vrrp,
    health: (proxies) => (trail.push(`health ${proxies.join(",")}`), healthy ? { healthy: true, reason: "all listeners bound, servers up" } : { healthy: false, reason: '"web" has 0 server(s) up, needs 1' }),
    addresses: {
      add: (v) => (trail.push(`add ${v.address}/${v.prefix} ${v.dev}`), local.add(v.address)),
      remove: (v) => (trail.push(`remove ${v.address}/${v.prefix} ${v.dev}`), local.delete(v.address)),
    },
    hasAddress: (_dev, address) => local.has(address),
    publish: (r) => {
      trail.push(`publish ${r.map((x) => x.prefix.address).join(",")}`);
      routes.push(r);
    },
    pollInterval: 500,
  });
  return {
    a, clock, bus, trail, local, routes, events,
    setHealthy: (v: boolean) => (healthy = v),
    io: () => trail.filter((t) => !t.startsWith("health")),
    state: () => a.status()[0].state,
  };
}

test("healthy at start: waits announce_delay, then adds the address and only then announces", () => {
  const h = harness();
  h.a.start();
  assert.equal(h.state(), "waiting");
  assert.match(h.a.status()[0].reason, /announce_delay/);
  assert.deepEqual(h.io(), []);
  h.clock.advance(1999);
  assert.deepEqual(h.io(), []);
  h.clock.advance(1);
  assert.deepEqual(h.io(), ["add 203.0.113.10/32 lo", "publish 203.0.113.10"]);
  assert.equal(h.state(), "announced");
  assert.deepEqual(h.routes.at(-1)![0].communities, [65001 * 65536 + 1]);
  assert.deepEqual(h.events, ["bgp.announced 203.0.113.10/32"]);
  assert.ok(h.trail.includes("health web"), "asks for the proxies bound to the address");
});

test("unhealthy: withdrawn at once on proxy.health, the address removed after the withdrawal; healthy again: back at once", () => {
  const h = harness(config({ announceDelay: 0 }));
  h.a.start();
  assert.equal(h.state(), "announced");
  h.trail.length = 0;
  h.setHealthy(false);
  h.bus.emit("proxy.health", { proxy: "web", healthy: false, reason: "no server" });
  assert.deepEqual(h.io(), ["publish ", "remove 203.0.113.10/32 lo"]);
  assert.equal(h.state(), "withdrawn");
  assert.equal(h.a.status()[0].reason, '"web" has 0 server(s) up, needs 1');
  assert.ok(h.events.includes("bgp.withdrawn 203.0.113.10/32"));
  h.trail.length = 0;
  h.setHealthy(true);
  h.bus.emit("server.state", { proxy: "web", server: "a", state: "up", previous: "down", reason: "ok" });
  assert.deepEqual(h.io(), ["add 203.0.113.10/32 lo", "publish 203.0.113.10"], "announce_delay applies after start only");
  assert.equal(h.a.status()[0].announcements, 2);
});

test("a change that no event reports is seen by the poll", () => {
  const h = harness(config({ announceDelay: 0 }));
  h.a.start();
  h.setHealthy(false);
  h.clock.advance(499);
  assert.equal(h.state(), "announced");
  h.clock.advance(1);
  assert.equal(h.state(), "withdrawn");
});

test("an address left by a killed process is removed at start", () => {
  const h = harness(config(), { leftover: true });
  h.a.start();
  assert.deepEqual(h.io(), ["remove 203.0.113.10/32 lo"]);
  assert.equal(h.local.size, 0);
});

test("stop: GRACEFUL_SHUTDOWN for graceful_shutdown, withdraw, keep the address for withdraw_wait, then remove it", async () => {
  const h = harness(config({ announceDelay: 0, gracefulShutdown: 1000, withdrawWait: 2000 }));
  h.a.start();
  h.trail.length = 0;
  let done = false;
  const stopped = h.a.stop("SIGTERM").then(() => (done = true));
  assert.deepEqual(h.io(), ["publish 203.0.113.10"]);
  assert.deepEqual(h.routes.at(-1)![0].communities, [65001 * 65536 + 1, COMMUNITY.GRACEFUL_SHUTDOWN]);
  assert.equal(h.events.includes("bgp.withdrawn 203.0.113.10/32"), false);
  h.clock.advance(1000);
  await Promise.resolve();
  assert.deepEqual(h.io(), ["publish 203.0.113.10", "publish "]);
  assert.equal(h.state(), "stopping");
  assert.deepEqual(h.events.slice(-1), ["bgp.withdrawn 203.0.113.10/32"]);
  assert.ok(h.local.has(VIP), "still local while the routers move the flows");
  h.clock.advance(1999);
  await Promise.resolve();
  assert.ok(h.local.has(VIP));
  h.clock.advance(1);
  await stopped;
  assert.ok(done);
  assert.equal(h.local.has(VIP), false);
  // Health events after the stop change nothing.
  h.bus.emit("proxy.health", { proxy: "web", healthy: true, reason: "" });
  assert.deepEqual(h.io().slice(-1), ["remove 203.0.113.10/32 lo"]);
});

test("stop with nothing announced: no wait", async () => {
  const h = harness(config({ withdrawWait: 60_000 }));
  h.a.start();
  await h.a.stop("SIGTERM");
  assert.equal(h.state(), "stopping");
});

test("a VRRP address: announced only while VRRP master, and never added here (VRRP holds it)", () => {
  let master = false;
  const h = harness(config({ announceDelay: 0 }), { vrrp: { vips: [VIP], isMaster: () => master } });
  h.a.start();
  assert.equal(h.state(), "withdrawn");
  assert.match(h.a.status()[0].reason, /not the VRRP master/);
  master = true;
  h.bus.emit("vrrp.state", { instance: "VI_1", from: "backup", to: "master", priority: 100, reason: "", vips: [VIP] });
  assert.equal(h.state(), "announced");
  assert.deepEqual(h.io(), ["publish 203.0.113.10"]);
});

test("update: a removed address is withdrawn and removed, a new one is checked", () => {
  const h = harness(config({ announceDelay: 0 }));
  h.a.start();
  h.trail.length = 0;
  h.a.update(config({ announceDelay: 0, announce: [{ prefix: { address: "203.0.113.20", prefix: 32, family: 4 }, proxies: ["web"] }] }));
  assert.deepEqual(h.io(), ["publish ", "remove 203.0.113.10/32 lo", "add 203.0.113.20/32 lo", "publish 203.0.113.20"]);
  assert.deepEqual(h.a.status().map((s) => [s.prefix, s.state]), [["203.0.113.20/32", "announced"]]);
});
