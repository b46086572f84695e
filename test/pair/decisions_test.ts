// The pure decisions of the pair: split brain incidents and which host sends an alert.

import { test } from "node:test";
import assert from "node:assert/strict";
import { pairAlertSender, type SenderInput } from "../../src/pair/alert_sender.ts";
import { EVIDENCE_GRACE, initialSplitBrain, stepSplitBrain, type SplitBrainInput } from "../../src/pair/split_brain.ts";

const local = (master: boolean, masterFor = master ? 60_000 : 0) => [{ instance: "VI_1", vrid: 51, master, masterFor, grace: 1000 }];
const peer = (master: boolean) => [{ vrid: 51, master }];

test("split brain over the link: both master longer than the grace period, once; over when either leaves master", () => {
  let s = initialSplitBrain();
  const step = (i: Omit<SplitBrainInput, "reports"> & { reports?: number[] }) => {
    const r = stepSplitBrain(s, { reports: [], ...i });
    s = r.state;
    return r.changes.map((c) => c.type);
  };
  assert.deepEqual(step({ now: 0, local: local(true), peer: peer(false) }), []);
  assert.deepEqual(step({ now: 10, local: local(true), peer: peer(true) }), [], "a preemption's overlap is not one");
  assert.deepEqual(step({ now: 60, local: local(true), peer: peer(false) }), []);
  assert.deepEqual(step({ now: 100, local: local(true), peer: peer(true) }), []);
  assert.deepEqual(step({ now: 1100, local: local(true), peer: peer(true) }), ["started"]);
  assert.deepEqual(step({ now: 1200, local: local(true), peer: peer(true) }), [], "reported once");
  assert.deepEqual(step({ now: 1300, local: local(true), peer: peer(false) }), ["ended"]);
  assert.deepEqual(step({ now: 1400, local: local(true), peer: peer(true) }), []);
  assert.deepEqual(step({ now: 2500, local: local(true), peer: peer(true) }), ["started"]);
  assert.deepEqual(step({ now: 2600, local: local(false), peer: peer(true) }), ["ended"]);
});

test("split brain from adverts: a lower master heard by a host that was master a while; ends once nothing shows it", () => {
  const fresh = stepSplitBrain(initialSplitBrain(), { now: 0, local: local(true, 30), peer: undefined, reports: [51] });
  assert.deepEqual(fresh.changes, [], "a new master hearing the old one's last advert (preemption) is not one");
  let r = stepSplitBrain(initialSplitBrain(), { now: 0, local: local(true), peer: undefined, reports: [51] });
  assert.deepEqual(r.changes, [{ type: "started", instance: "VI_1", vrid: 51, source: "adverts" }]);
  r = stepSplitBrain(r.state, { now: EVIDENCE_GRACE, local: local(true), peer: undefined, reports: [] });
  assert.deepEqual(r.changes, []);
  r = stepSplitBrain(r.state, { now: EVIDENCE_GRACE + 1, local: local(true), peer: undefined, reports: [] });
  assert.equal(r.changes[0].type, "ended");
});

test("an instance removed by a reload ends its incident", () => {
  const r = stepSplitBrain(initialSplitBrain(), { now: 0, local: local(true), peer: undefined, reports: [51] });
  assert.equal(stepSplitBrain(r.state, { now: 5, local: [], peer: [], reports: [] }).changes[0].type, "ended");
});

test("the VIP holder sends alerts about the pair; the other only when the holder is unreachable", () => {
  const base: SenderInput = { linked: true, linkUp: true, role: "backup", holdsVip: false, hearsMaster: true, peerHoldsVip: true };
  const cases: [Partial<SenderInput>, boolean][] = [
    [{ linked: false }, true],
    [{}, false],
    [{ holdsVip: true, peerHoldsVip: false }, true],
    [{ holdsVip: true, peerHoldsVip: true }, false],
    [{ holdsVip: true, peerHoldsVip: true, role: "master" }, true],
    [{ peerHoldsVip: false, role: "master" }, true],
    [{ peerHoldsVip: false }, false],
    [{ linkUp: false, holdsVip: true }, true],
    [{ linkUp: false }, false],
    [{ linkUp: false, hearsMaster: false }, true],
  ];
  for (const [over, send] of cases) assert.equal(pairAlertSender({ ...base, ...over }).send, send, JSON.stringify(over));
});
