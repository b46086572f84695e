// Sync groups (keepalived vrrp_sync_group): instances that fail over as one. The group is data and
// step() a pure function over its members' states; the subsystem runs the commands it returns.

import type { VrrpStateName } from "./state_machine.ts";

/** A sync group as configured: its members and the notify commands run when the group changes state. */
export interface SyncGroupConfig {
  name: string;
  instances: string[];
  notify: { master?: string; backup?: string; fault?: string; stop?: string; timeout: number };
}

/** What the group reads of one member. */
export interface MemberView {
  name: string;
  state: VrrpStateName;
  /** A synced backup whose Master_Down_Timer fired: it waits for the group. */
  wantMaster: boolean;
  /** Its own tracking fails (a fault the group imposed does not count). */
  ownFault?: string;
  /** In FAULT because the group put it there. */
  groupFault?: boolean;
}

/** The group's own state: every member master, any in fault, none master... */
export type GroupState = "init" | "backup" | "master" | "fault" | "stopped";

/** What one member must be told. */
export type GroupCommand =
  | { member: string; type: "sync_master" | "sync_backup"; reason: string }
  | { member: string; type: "group_fault"; reason: string }
  | { member: string; type: "group_recover"; reason: string };

export interface GroupStep {
  state: GroupState;
  commands: GroupCommand[];
}

/**
 * The group's state from its members': master when all are master, fault when any is in fault,
 * backup when none is master, stopped when all stopped; while members disagree on the way from
 * one to another (one already master, the next not yet), the previous state holds.
 */
export function groupState(members: MemberView[], previous: GroupState): GroupState {
  if (members.length === 0) return previous;
  if (members.every((m) => m.state === "stopped")) return "stopped";
  if (members.some((m) => m.state === "fault")) return "fault";
  if (members.every((m) => m.state === "master")) return "master";
  if (members.every((m) => m.state === "init")) return "init";
  if (members.every((m) => m.state !== "master")) return "backup";
  return previous;
}

/**
 * One evaluation of the group after any member changed (keepalived vrrp_sync.c, rule by rule):
 * 1. a member whose own tracking fails puts every other member in FAULT; when none fails any
 *    more, the members the group put in FAULT recover (to BACKUP);
 * 2. a member back in BACKUP (not waiting to become master) while others are MASTER: those hand
 *    over too (priority 0, so their peers take over at once);
 * 3. members that want MASTER go only when every member is MASTER or wants it — the group prefers
 *    BACKUP to thrashing.
 * Pure: returns the new group state and the commands, in member order.
 */
export function step(group: SyncGroupConfig, members: MemberView[], previous: GroupState): GroupStep {
  const commands: GroupCommand[] = [];
  const live = members.filter((m) => m.state !== "stopped");
  const faulty = live.filter((m) => m.ownFault !== undefined);
  if (faulty.length > 0) {
    const reason = `sync group ${group.name}: ${faulty.map((m) => `${m.name} is FAULT (${m.ownFault})`).join(", ")}`;
    for (const m of live) if (m.ownFault === undefined && !m.groupFault) commands.push({ member: m.name, type: "group_fault", reason });
  } else {
    for (const m of live) if (m.groupFault) commands.push({ member: m.name, type: "group_recover", reason: `sync group ${group.name}: no member is faulty` });
  }
  if (commands.length === 0) {
    const leaving = live.filter((m) => m.state === "backup" && !m.wantMaster);
    const masters = live.filter((m) => m.state === "master");
    if (leaving.length > 0 && masters.length > 0) {
      const reason = `sync group ${group.name}: ${leaving.map((m) => m.name).join(", ")} ${leaving.length === 1 ? "is" : "are"} BACKUP`;
      for (const m of masters) commands.push({ member: m.name, type: "sync_backup", reason });
    } else if (live.length > 0 && live.some((m) => m.wantMaster) && live.every((m) => m.state === "master" || m.wantMaster)) {
      const reason = `sync group ${group.name}: every member can be MASTER`;
      for (const m of live) if (m.wantMaster) commands.push({ member: m.name, type: "sync_master", reason });
    }
  }
  return { state: groupState(members, previous), commands };
}
