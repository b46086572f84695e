// The VRRP subsystem with fake I/O and a FakeClock: sync groups run by their members' changes
// (fault spreads, the group goes master together, its notify script runs), demote by name, reload.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.ts";
import { EventBus, type AnyEvent } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Services } from "../../src/core/subsystem.ts";
import { createVrrpSubsystem, type VrrpSubsystemConfig } from "../../src/vrrp/subsystem.ts";
import type { VrrpConfig, VrrpSectionConfig } from "../../src/vrrp/config.ts";
import type { InstanceIo } from "../../src/vrrp/instance.ts";
import { encodePacket } from "../../src/vrrp/packet.ts";

function inst(name: string, vrid: number, vip: string, over: Partial<VrrpConfig> = {}): VrrpConfig {
  return {
    name, routerId: "r", interface: "lo", vrid, family: 4, version: 3, advertInterval: 100,
    virtualIps: [{ cidr: { address: vip, prefix: 24, family: 4 } }],
    priority: 100, preempt: true, preemptDelay: 0, initialState: "backup",
    // Unicast from a fixed source, so the test does not depend on this machine's interfaces.
    unicastSrc: "192.0.2.11", unicastPeers: ["192.0.2.12"],
    track: { interfaces: [], scripts: [] }, notify: { timeout: 1000 },
    garp: { count: 0, interval: 0, repeatDelay: 0, repeatCount: 0 }, ...over,
  };
}

function setup(vrrp: VrrpSectionConfig) {
  const clock = new FakeClock();
  const bus = new EventBus({ wallNow: () => clock.wallNow() });
  const events: AnyEvent[] = [];
  bus.onAny((e) => events.push(e));
  const links = new Map<string, boolean>();
  const vips = new Set<string>();
  const services: Services = {};
  const config: VrrpSubsystemConfig = { file: "t.yaml", role: "master", global: {} as never, vrrp };
  const receivers = new Map<string, (b: Uint8Array) => void>();
  const makeIo = (cfg: VrrpConfig): InstanceIo => ({
    transport: { sendAdvert: () => {}, onPacket: (fn) => void receivers.set(cfg.name, fn), onError: () => {}, close: () => {} },
    addresses: { add: (v) => void vips.add(v.address), remove: (v) => void vips.delete(v.address) },
    arp: { send: () => {}, close: () => {} },
    track: { linkUp: (dev) => ({ up: links.get(dev) ?? true, detail: "test" }), runScript: async () => ({ ok: true, code: 0, reason: "exit 0", output: "" }) },
  });
  const sub = createVrrpSubsystem({ config, bus, clock, log: nullLogger, services }, makeIo);
  const states = () => Object.fromEntries(services.vrrp!.status().instances.map((i) => [i.instance, i.state]));
  /** An advert from the peer 192.0.2.12 for an instance, at a priority. */
  const peer = (name: string, vrid: number, vip: string, priority: number) =>
    receivers.get(name)!(encodePacket({ version: 3, vrid, priority, advertInterval: 100, addresses: [vip] }, "192.0.2.12", "192.0.2.11"));
  return { clock, events, links, vips, services, sub, states, config, peer };
}

test("a sync group goes master together, follows a member into FAULT and back, and runs its notify script", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-sync-"));
  try {
    const log = join(dir, "notify.log");
    const t = setup({
      instances: [inst("A", 51, "192.0.2.100", { syncGroup: "G", track: { interfaces: [{ name: "trk0", weight: 0 }], scripts: [] } }), inst("B", 52, "192.0.2.101", { syncGroup: "G" })],
      syncGroups: [{ name: "G", instances: ["A", "B"], notify: { master: `echo "$@" >> ${log}`, fault: `echo "$@" >> ${log}`, timeout: 1000 } }],
    });
    await t.sub.start();
    t.clock.advance(1000);
    assert.deepEqual(t.states(), { A: "master", B: "master" });
    assert.deepEqual([...t.vips].sort(), ["192.0.2.100", "192.0.2.101"]);
    assert.deepEqual(t.services.vrrp!.status().syncGroups, [{ name: "G", state: "master", instances: ["A", "B"] }]);
    t.links.set("trk0", false);
    t.clock.advance(300);
    assert.deepEqual(t.states(), { A: "fault", B: "fault" });
    assert.deepEqual([...t.vips], []);
    const b = t.services.vrrp!.status().instances[1];
    assert.match(b.fault ?? "", /^sync group G: A is FAULT \(interface trk0: test\)$/);
    t.links.set("trk0", true);
    t.clock.advance(300);
    assert.deepEqual(t.states(), { A: "backup", B: "backup" });
    t.clock.advance(1000);
    assert.deepEqual(t.states(), { A: "master", B: "master" });
    const groupEvents = t.events.filter((e) => e.name === "vrrp.group").map((e) => `${(e.data as { from: string }).from}→${(e.data as { to: string }).to}`);
    assert.deepEqual(groupEvents, ["init→backup", "backup→master", "master→fault", "fault→backup", "backup→master"]);
    await t.sub.stop("end");
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), ["GROUP G MASTER", "GROUP G FAULT", "GROUP G MASTER"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("demote by name; demote without one hands over every master; an unknown name throws", async () => {
  const t = setup({ instances: [inst("A", 51, "192.0.2.100"), inst("B", 52, "192.0.2.101")], syncGroups: [] });
  await t.sub.start();
  t.clock.advance(1000);
  assert.deepEqual(await t.services.vrrp!.demote("A"), ["A"]);
  assert.deepEqual(t.states(), { A: "backup", B: "master" });
  assert.deepEqual(await t.services.vrrp!.demote(), ["B"]);
  await assert.rejects(t.services.vrrp!.demote("C"), /No VRRP instance "C": instances are A, B/);
  await t.sub.stop("end");
});

test("reload: an added instance starts, a removed one stops, the unchanged one is left as it is", async () => {
  const a = inst("A", 51, "192.0.2.100");
  const t = setup({ instances: [a], syncGroups: [] });
  await t.sub.start();
  t.clock.advance(1000);
  const aTransitions = () => t.events.filter((e) => e.name === "vrrp.state" && (e.data as { instance: string }).instance === "A").length;
  const before = aTransitions();
  await t.sub.reload({ ...t.config, vrrp: { instances: [a, inst("B", 52, "192.0.2.101")], syncGroups: [] } });
  t.clock.advance(1000);
  assert.deepEqual(t.states(), { A: "master", B: "master" });
  await t.sub.reload({ ...t.config, vrrp: { instances: [{ ...a, priority: 120 }], syncGroups: [] } });
  assert.deepEqual(t.states(), { A: "master" });
  assert.equal(t.vips.has("192.0.2.101"), false, "B's VIP removed with it");
  assert.equal(aTransitions(), before, "A did not change state");
  assert.equal(t.services.vrrp!.status().instances[0].basePriority, 120);
  await t.sub.stop("end");
});

test("a member waits while another hears a better master; out of the group (reload) it becomes master", async () => {
  const a = inst("A", 51, "192.0.2.100", { syncGroup: "G" });
  const b = inst("B", 52, "192.0.2.101", { syncGroup: "G" });
  const t = setup({ instances: [a, b], syncGroups: [{ name: "G", instances: ["A", "B"], notify: { timeout: 1000 } }] });
  await t.sub.start();
  // B's peer is master at 150: B stays a plain backup, so A (no peer heard) waits for the group.
  for (let i = 0; i < 20; i++) {
    t.peer("B", 52, "192.0.2.101", 150);
    t.clock.advance(100);
  }
  assert.deepEqual(t.states(), { A: "backup", B: "backup" });
  assert.equal(t.services.vrrp!.status().syncGroups[0].state, "backup");
  await t.sub.reload({ ...t.config, vrrp: { instances: [{ ...a, syncGroup: undefined }, { ...b, syncGroup: undefined }], syncGroups: [] } });
  assert.deepEqual(t.states(), { A: "master", B: "backup" });
  await t.sub.stop("end");
});
