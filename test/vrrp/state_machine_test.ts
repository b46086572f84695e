// Tests for the pure VRRP state machine: timers, elections, preemption, stop and split brain.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import {
  initialState, step, masterDownInterval, skewTime, nextDeadline,
  type MachineConfig, type MachineEvent, type MachineState, type Action,
} from "../../src/vrrp/state_machine.ts";

const V2: MachineConfig = { version: 2, advertInterval: 1000, preempt: true, preemptDelay: 0, primaryIp: "192.0.2.11" };
const V3: MachineConfig = { ...V2, version: 3 };

/** Drives the machine the way the instance does: FakeClock timers at each deadline. */
function harness(cfg: MachineConfig, priority: number) {
  const clock = new FakeClock();
  let state: MachineState = initialState(cfg, priority);
  const log: Action[] = [];
  let timer: { cancel(): void } | undefined;
  const send = (e: MachineEvent) => {
    const r = step(state, e, clock.now());
    state = r.state;
    log.push(...r.actions);
    timer?.cancel();
    const at = nextDeadline(state);
    if (at !== undefined) timer = clock.setTimeout(() => send({ type: "timer" }), at - clock.now());
  };
  return { clock, send, get state() { return state; }, log, types: () => log.map((a) => a.type) };
}

test("skew and Master_Down_Interval per version", () => {
  assert.equal(skewTime(V2, 100, 1000), (156 * 1000) / 256);
  assert.equal(masterDownInterval(V2, 100, 1000), 3000 + 609.375);
  assert.equal(skewTime(V3, 100, 200), (156 * 200) / 256);
  assert.equal(masterDownInterval(V3, 100, 200), 600 + 121.875);
});

test("Initialize → Backup → Master after Master_Down_Interval, then adverts every interval", () => {
  const h = harness(V2, 100);
  h.send({ type: "start" });
  assert.equal(h.state.name, "backup");
  h.clock.advance(3609);
  assert.equal(h.state.name, "backup");
  h.clock.advance(1);
  assert.equal(h.state.name, "master");
  assert.deepEqual(h.types(), ["transition", "send_advert", "add_vips", "garp", "transition"]);
  h.log.length = 0;
  h.clock.advance(3000);
  assert.deepEqual(h.types(), ["send_advert", "send_advert", "send_advert"]);
});

test("priority 255 (address owner) becomes master at once", () => {
  const h = harness(V3, 255);
  h.send({ type: "start" });
  assert.equal(h.state.name, "master");
});

test("backup stays backup while a higher master advertises", () => {
  const h = harness(V2, 50);
  h.send({ type: "start" });
  for (let i = 0; i < 10; i++) {
    h.clock.advance(1000);
    h.send({ type: "advert", src: "192.0.2.12", priority: 100, advertInterval: 1000 });
  }
  assert.equal(h.state.name, "backup");
  assert.equal(h.state.masterIp, "192.0.2.12");
});

test("priority 0 from the master: backup takes over after Skew_Time only", () => {
  const h = harness(V2, 50);
  h.send({ type: "start" });
  h.send({ type: "advert", src: "192.0.2.12", priority: 0, advertInterval: 1000 });
  h.clock.advance(Math.ceil(skewTime(V2, 50, 1000)));
  assert.equal(h.state.name, "master");
  const t = h.log.find((a) => a.type === "transition" && a.to === "master");
  assert.match(t && t.type === "transition" ? t.reason : "", /priority 0/);
});

test("v3 backup learns the master's interval", () => {
  const h = harness(V3, 50);
  h.send({ type: "start" });
  h.send({ type: "advert", src: "192.0.2.12", priority: 100, advertInterval: 200 });
  assert.equal(h.state.masterAdverInterval, 200);
  h.clock.advance(Math.ceil(masterDownInterval(V3, 50, 200)));
  assert.equal(h.state.name, "master");
});

test("preempt: a lower-priority master is preempted after Master_Down_Interval", () => {
  const h = harness(V2, 100);
  h.send({ type: "start" });
  for (let i = 0; i < 4; i++) {
    h.clock.advance(1000);
    h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
    if (h.state.name === "master") break;
  }
  assert.equal(h.state.name, "master");
});

test("preempt: false keeps a lower-priority master; preempt_delay defers preemption", () => {
  const h = harness({ ...V2, preempt: false }, 100);
  h.send({ type: "start" });
  for (let i = 0; i < 10; i++) {
    h.clock.advance(1000);
    h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  }
  assert.equal(h.state.name, "backup");

  const d = harness({ ...V2, preemptDelay: 6000 }, 100);
  d.send({ type: "start" });
  let becameMasterAt = -1;
  for (let i = 0; i < 15 && becameMasterAt < 0; i++) {
    d.clock.advance(1000);
    if (d.state.name === "master") becameMasterAt = d.clock.now();
    else d.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  }
  assert.ok(becameMasterAt >= 6000 + 3000, `became master at ${becameMasterAt}`);
});

function masterHarness(cfg: MachineConfig, priority: number) {
  const h = harness(cfg, priority);
  h.send({ type: "start" });
  h.clock.advance(5000);
  assert.equal(h.state.name, "master");
  h.log.length = 0;
  return h;
}

test("master yields to a higher priority and reports split brain once", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "advert", src: "192.0.2.12", priority: 150, advertInterval: 1000 });
  assert.equal(h.state.name, "backup");
  assert.deepEqual(h.types(), ["split_brain", "remove_vips", "transition"]);
});

test("tie: higher primary address wins", () => {
  const low = masterHarness(V2, 100); // we are .11
  low.send({ type: "advert", src: "192.0.2.12", priority: 100, advertInterval: 1000 });
  assert.equal(low.state.name, "backup");
  const high = masterHarness(V2, 100);
  high.send({ type: "advert", src: "192.0.2.10", priority: 100, advertInterval: 1000 });
  assert.equal(high.state.name, "master");
});

test("master hearing a lower master: keeps master, advertises and re-sends GARP at once, reports once per peer", () => {
  const h = masterHarness(V3, 100);
  h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  assert.equal(h.state.name, "master");
  assert.deepEqual(h.types(), ["split_brain", "send_advert", "garp"]);
});

test("master answers a priority-0 advert with an advert", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "advert", src: "192.0.2.12", priority: 0, advertInterval: 1000 });
  assert.deepEqual(h.types(), ["send_advert"]);
});

test("clean stop from master sends priority 0 and removes VIPs", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "stop", reason: "SIGTERM" });
  assert.equal(h.state.name, "stopped");
  assert.deepEqual(h.log.slice(0, 2), [{ type: "send_advert", priority: 0 }, { type: "remove_vips" }]);
  assert.equal(nextDeadline(h.state), undefined);
});

test("fault: master leaves with priority 0, recovers to backup, events ignored meanwhile", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "fault", reason: "eth0 down" });
  assert.equal(h.state.name, "fault");
  assert.deepEqual(h.types(), ["send_advert", "remove_vips", "transition"]);
  h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  h.clock.advance(10_000);
  assert.equal(h.state.name, "fault");
  h.send({ type: "recover", reason: "eth0 up" });
  assert.equal(h.state.name, "backup");
  h.clock.advance(4000);
  assert.equal(h.state.name, "master");
});

test("priority change takes effect in the next advert", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "priority", priority: 60 });
  assert.deepEqual(h.log, []);
  h.clock.advance(1000);
  assert.deepEqual(h.log, [{ type: "send_advert", priority: 60 }]);
});

test("demote: master steps down with priority 0 and does not preempt back", () => {
  const h = masterHarness(V2, 100);
  h.send({ type: "demote" });
  assert.equal(h.state.name, "backup");
  assert.deepEqual(h.log[0], { type: "send_advert", priority: 0 });
  for (let i = 0; i < 10; i++) {
    h.clock.advance(1000);
    h.send({ type: "advert", src: "192.0.2.12", priority: 50, advertInterval: 1000 });
  }
  assert.equal(h.state.name, "backup");
});

test("every transition action carries from, to, priority and reason", () => {
  const h = harness(V2, 100);
  h.send({ type: "start" });
  h.clock.advance(4000);
  h.send({ type: "stop", reason: "shutdown" });
  const t = h.log.filter((a) => a.type === "transition");
  assert.deepEqual(t.map((a) => a.type === "transition" && [a.from, a.to, a.priority]), [["init", "backup", 100], ["backup", "master", 100], ["master", "stopped", 100]]);
});

test("sync group member: the timer asks the group (want_master) and waits; sync_master makes it master", () => {
  const h = harness({ ...V3, synced: true }, 100);
  h.send({ type: "start" });
  h.clock.advance(Math.ceil(masterDownInterval(V3, 100, 1000)));
  assert.equal(h.state.name, "backup");
  assert.equal(h.state.wantMaster, true);
  assert.deepEqual(h.types(), ["transition", "want_master"]);
  h.clock.advance(10_000);
  assert.equal(h.state.name, "backup", "a waiting member keeps waiting");
  h.send({ type: "sync_master", reason: "sync group G: every member can be MASTER" });
  assert.equal(h.state.name, "master");
  assert.equal(h.state.wantMaster, false);
});

test("sync group member: a higher-priority advert ends the wait; sync_master then does nothing", () => {
  const h = harness({ ...V3, synced: true }, 100);
  h.send({ type: "start" });
  h.clock.advance(Math.ceil(masterDownInterval(V3, 100, 1000)));
  h.send({ type: "advert", src: "192.0.2.12", priority: 150, advertInterval: 1000 });
  assert.equal(h.state.wantMaster, false);
  h.send({ type: "sync_master", reason: "x" });
  assert.equal(h.state.name, "backup");
});

test("sync_backup: a master hands over with priority 0 and stays a backup; a backup ignores it", () => {
  const h = harness({ ...V3, synced: true }, 100);
  h.send({ type: "start" });
  h.clock.advance(Math.ceil(masterDownInterval(V3, 100, 1000)));
  h.send({ type: "sync_master", reason: "x" });
  h.log.length = 0;
  h.send({ type: "sync_backup", reason: "sync group G: A is BACKUP" });
  assert.equal(h.state.name, "backup");
  const first = h.log[0];
  assert.deepEqual(first, { type: "send_advert", priority: 0 });
  assert.ok(h.log.some((a) => a.type === "transition" && a.to === "backup" && a.reason === "sync group G: A is BACKUP"));
  h.log.length = 0;
  h.send({ type: "sync_backup", reason: "again" });
  assert.deepEqual(h.log, []);
});

test("tie-break at equal priority compares IPv6 addresses as numbers", () => {
  const h = harness({ ...V3, primaryIp: "fe80::2" }, 100);
  h.send({ type: "start" });
  h.send({ type: "priority", priority: 100 });
  h.clock.advance(Math.ceil(masterDownInterval(V3, 100, 1000)));
  assert.equal(h.state.name, "master");
  h.send({ type: "advert", src: "fe80::1", priority: 100, advertInterval: 1000 });
  assert.equal(h.state.name, "master", "fe80::1 is lower: we stay");
  h.send({ type: "advert", src: "fe80::10", priority: 100, advertInterval: 1000 });
  assert.equal(h.state.name, "backup", "fe80::10 is higher: we yield");
});
