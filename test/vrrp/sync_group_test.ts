// The sync group as a pure function over its members: fault spreads and recovers, backup spreads,
// master only when every member wants it; the group's own state.

import { test } from "node:test";
import assert from "node:assert/strict";
import { groupState, step, type MemberView, type SyncGroupConfig } from "../../src/vrrp/sync_group.ts";

const G: SyncGroupConfig = { name: "G", instances: ["A", "B", "C"], notify: { timeout: 1000 } };
const m = (name: string, state: MemberView["state"], over: Partial<MemberView> = {}): MemberView => ({ name, state, wantMaster: false, ...over });
const cmds = (members: MemberView[]) => step(G, members, "backup").commands.map((c) => `${c.member}:${c.type}`);

test("a member's own fault puts every other member in FAULT; those already there are left alone", () => {
  assert.deepEqual(cmds([m("A", "fault", { ownFault: "interface trk0: link down" }), m("B", "master"), m("C", "backup")]), ["B:group_fault", "C:group_fault"]);
  assert.deepEqual(cmds([m("A", "fault", { ownFault: "x" }), m("B", "fault", { groupFault: true }), m("C", "fault", { ownFault: "y" })]), []);
  const r = step(G, [m("A", "fault", { ownFault: "trk0 down" }), m("B", "master"), m("C", "backup")], "master");
  assert.match(r.commands[0].reason, /^sync group G: A is FAULT \(trk0 down\)$/);
});

test("when no member fails any more, those the group put in FAULT recover", () => {
  assert.deepEqual(cmds([m("A", "backup"), m("B", "fault", { groupFault: true }), m("C", "fault", { groupFault: true })]), ["B:group_recover", "C:group_recover"]);
  // A member whose own fault cleared while another still fails is kept in FAULT by the group.
  assert.deepEqual(cmds([m("A", "fault"), m("B", "fault", { groupFault: true }), m("C", "fault", { ownFault: "z" })]), ["A:group_fault"]);
});

test("a member back in BACKUP takes the masters with it", () => {
  assert.deepEqual(cmds([m("A", "backup"), m("B", "master"), m("C", "master")]), ["B:sync_backup", "C:sync_backup"]);
  // A backup waiting to become master does not.
  assert.deepEqual(cmds([m("A", "backup", { wantMaster: true }), m("B", "master"), m("C", "master")]), ["A:sync_master"]);
});

test("master only when every member is master or wants it (backup rather than thrashing)", () => {
  assert.deepEqual(cmds([m("A", "backup", { wantMaster: true }), m("B", "backup", { wantMaster: true }), m("C", "backup")]), []);
  assert.deepEqual(cmds([m("A", "backup", { wantMaster: true }), m("B", "backup", { wantMaster: true }), m("C", "backup", { wantMaster: true })]), ["A:sync_master", "B:sync_master", "C:sync_master"]);
  assert.deepEqual(cmds([m("A", "backup"), m("B", "backup"), m("C", "backup")]), []);
});

test("stopped members are out of the group's reckoning", () => {
  assert.deepEqual(cmds([m("A", "stopped"), m("B", "master"), m("C", "master")]), []);
  assert.deepEqual(cmds([m("A", "stopped", { ownFault: "old" }), m("B", "master"), m("C", "master")]), []);
});

test("the group's state: master when all are, fault when any is, backup when none is master, else unchanged", () => {
  assert.equal(groupState([m("A", "master"), m("B", "master")], "backup"), "master");
  assert.equal(groupState([m("A", "fault"), m("B", "master")], "master"), "fault");
  assert.equal(groupState([m("A", "backup"), m("B", "backup", { wantMaster: true })], "master"), "backup");
  assert.equal(groupState([m("A", "master"), m("B", "backup")], "backup"), "backup");
  assert.equal(groupState([m("A", "master"), m("B", "backup")], "master"), "master");
  assert.equal(groupState([m("A", "stopped"), m("B", "stopped")], "master"), "stopped");
  assert.equal(groupState([m("A", "init"), m("B", "init")], "init"), "init");
});
