// Tests for the instance driver with fake I/O and FakeClock: actions reach the network, VIPs, ARP, events.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { EventBus, type AnyEvent } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import { VrrpInstance, type InstanceIo } from "../../src/vrrp/instance.ts";
import { encodePacket, decodePacket, type Advert } from "../../src/vrrp/packet.ts";
import type { VrrpConfig } from "../../src/vrrp/config.ts";

function config(over: Partial<VrrpConfig> = {}): VrrpConfig {
  return {
    name: "VI_1", routerId: "r", interface: "eth0", vrid: 51, version: 2, advertInterval: 1000,
    auth: { type: "pass", password: "1111" },
    virtualIps: [{ cidr: { address: "192.0.2.100", prefix: 24, family: 4 } }],
    priority: 100, preempt: true, preemptDelay: 0, initialState: "backup", unicastPeers: [],
    track: { interfaces: [], scripts: [] }, notify: { timeout: 1000 },
    garp: { count: 2, interval: 100, repeatDelay: 1000, repeatCount: 1 }, ...over,
  };
}

function setup(cfg = config(), world: { link?: boolean; proxy?: boolean } = {}) {
  const clock = new FakeClock();
  const bus = new EventBus();
  const events: AnyEvent[] = [];
  bus.onAny((e) => events.push(e));
  const sent: Advert[] = [];
  const vips = new Set<string>();
  const arps: number[] = [];
  let receive: (b: Uint8Array) => void = () => {};
  const io: InstanceIo = {
    transport: {
      sendAdvert: (a) => void sent.push(a),
      onPacket: (fn) => void (receive = fn),
      onError: () => {},
      close: () => {},
    },
    addresses: { add: (v) => void vips.add(v.address), remove: (v) => void vips.delete(v.address) },
    arp: { send: () => void arps.push(clock.now()), close: () => {} },
    track: {
      linkUp: () => ({ up: world.link ?? true, detail: "test" }),
      proxyHealth: () => ({ healthy: world.proxy ?? true, reason: "test" }),
      runScript: async () => ({ ok: true, code: 0, reason: "exit 0", output: "" }),
    },
  };
  const inst = new VrrpInstance(cfg, { clock, bus, log: nullLogger, io, primaryIp: "192.0.2.11", owner: false });
  const deliver = (a: Partial<Advert>, src = "192.0.2.12") =>
    receive(encodePacket({ version: 2, vrid: 51, priority: 150, advertInterval: 1000, addresses: ["192.0.2.100"], password: "1111", ...a }, src, "224.0.0.18"));
  return { clock, inst, sent, vips, arps, events, deliver, world };
}

test("becomes master: advert, VIP added, GARP burst + second burst, vrrp.state event", () => {
  const t = setup();
  t.inst.start();
  t.clock.advance(3700);
  assert.equal(t.inst.state, "master");
  assert.deepEqual([...t.vips], ["192.0.2.100"]);
  assert.equal(t.sent[0].priority, 100);
  assert.equal(t.sent[0].password, "1111");
  t.clock.advance(2000);
  assert.deepEqual(t.arps, [3609.375, 3709.375, 4709.375].map((x) => Math.round(x * 1000) / 1000));
  const states = t.events.filter((e) => e.name === "vrrp.state").map((e) => e.data as { from: string; to: string; reason: string });
  assert.deepEqual(states.map((s) => `${s.from}>${s.to}`), ["init>backup", "backup>master"]);
});

test("received adverts are validated: bad ones counted, good ones obeyed", () => {
  const t = setup();
  t.inst.start();
  t.clock.advance(3700);
  t.deliver({ password: "nope" });
  t.deliver({ vrid: 9 });
  assert.equal(t.inst.state, "master");
  t.deliver({});
  assert.equal(t.inst.state, "backup");
  assert.equal(t.vips.size, 0);
  const st = t.inst.status();
  assert.deepEqual(st.received.dropped, { auth_mismatch: 1, unknown_vrid: 1 });
  assert.equal(st.received.accepted, 1);
  assert.ok(t.events.some((e) => e.name === "vrrp.split_brain"));
});

test("stop: a master sends priority 0 and removes the VIP", async () => {
  const t = setup();
  t.inst.start();
  t.clock.advance(3700);
  await t.inst.stop("test");
  assert.equal(t.sent.at(-1)!.priority, 0);
  assert.equal(t.vips.size, 0);
  assert.equal(t.inst.state, "stopped");
});

test("proxy tracking weight 0: Fault while unhealthy, recovers", () => {
  const t = setup(config({ track: { interfaces: [], proxy: { weight: 0, minServers: 1 }, scripts: [] } }));
  t.inst.start();
  t.clock.advance(3700);
  t.world.proxy = false;
  t.clock.advance(300);
  assert.equal(t.inst.state, "fault");
  assert.equal(t.sent.at(-1)!.priority, 0);
  t.world.proxy = true;
  t.clock.advance(300);
  assert.equal(t.inst.state, "backup");
});

test("proxy tracking with a negative weight lowers the advertised priority", () => {
  const t = setup(config({ track: { interfaces: [], proxy: { weight: -60, minServers: 1 }, scripts: [] } }));
  t.inst.start();
  t.clock.advance(3700);
  t.world.proxy = false;
  t.clock.advance(1000);
  assert.equal(t.sent.at(-1)!.priority, 40);
  assert.ok(t.events.some((e) => e.name === "vrrp.priority"));
});

test("link of the VRRP interface down → Fault at start", () => {
  const t = setup(config(), { link: false });
  t.inst.start();
  assert.equal(t.inst.state, "fault");
  t.clock.advance(10_000);
  assert.equal(t.sent.length, 0);
});

test("sent adverts decode with the configured fields", () => {
  const t = setup(config({ version: 3, auth: undefined, advertInterval: 250 }));
  t.inst.start();
  t.clock.advance(1000);
  const r = decodePacket(encodePacket(t.sent[0], "192.0.2.11", "224.0.0.18"));
  assert.ok(r.ok);
  assert.equal(r.advert.advertInterval, 250);
});
