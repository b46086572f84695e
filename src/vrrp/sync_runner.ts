// Runs one sync group: evaluates sync_group.step() whenever a member changes, hands the commands to
// the members, and publishes the group's own transitions (vrrp.group, notify scripts).

import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { VrrpInstance } from "./instance.ts";
import { NotifyQueue } from "./notify.ts";
import { groupState, step, type GroupState, type SyncGroupConfig } from "./sync_group.ts";

/** Commands may cascade (a member forced to BACKUP changes the group again): this many rounds at most. */
const MAX_ROUNDS = 8;

const NOTIFY_KEY = { master: "master", backup: "backup", fault: "fault", stopped: "stop" } as const;

/** What status() reports of a group. */
export interface SyncGroupStatus {
  name: string;
  state: GroupState;
  instances: string[];
}

/** One sync group at run time. `members()` returns the running instances it names. */
export class SyncGroupRunner {
  #cfg: SyncGroupConfig;
  #state: GroupState;
  #members: () => VrrpInstance[];
  #bus: EventBus;
  #log: Logger;
  #notify: NotifyQueue;
  #busy = false;
  #lastReason = "";

  constructor(cfg: SyncGroupConfig, deps: { members: () => VrrpInstance[]; bus: EventBus; log: Logger; state?: GroupState }) {
    this.#cfg = cfg;
    this.#members = deps.members;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#state = deps.state ?? "init";
    this.#notify = new NotifyQueue(cfg.notify.timeout, (command, r) => {
      if (!r.ok) this.#log.warn(`Notify command failed: ${r.reason}`, { group: cfg.name, command, output: r.output.trim().slice(0, 200) });
    });
  }

  get name(): string {
    return this.#cfg.name;
  }

  status(): SyncGroupStatus {
    return { name: this.#cfg.name, state: this.#state, instances: [...this.#cfg.instances] };
  }

  /**
   * Re-evaluates the group (a member changed). Re-entrant calls, from the members' own change
   * callbacks while commands run, are folded into the current evaluation's next round.
   */
  evaluate(): void {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const members = this.#members();
        const r = step(this.#cfg, members.map((m) => m.view()), this.#state);
        if (r.commands.length === 0) break;
        const byName = new Map(members.map((m) => [m.name, m]));
        for (const c of r.commands) {
          const m = byName.get(c.member);
          if (!m) continue;
          this.#lastReason = c.reason;
          this.#log.info(`${c.reason}: ${c.type.replace("_", " ")} for ${c.member}`, { group: this.#cfg.name, instance: c.member });
          if (c.type === "group_fault") m.groupFault(c.reason);
          else if (c.type === "group_recover") m.groupRecover(c.reason);
          else m.sync(c.type, c.reason);
        }
      }
      this.#publish();
    } finally {
      this.#busy = false;
    }
  }

  /** Waits for the group's notify commands. */
  drain(): Promise<void> {
    return this.#notify.drain();
  }

  #publish(): void {
    const members = this.#members();
    const next = groupState(members.map((m) => m.view()), this.#state);
    if (next === this.#state) return;
    const from = this.#state;
    this.#state = next;
    const reason = this.#lastReason || members.map((m) => `${m.name} ${m.state}`).join(", ");
    this.#lastReason = "";
    const vips = members.flatMap((m) => m.status().vips);
    this.#log.info(`sync group ${this.#cfg.name}: ${from} → ${next}`, { group: this.#cfg.name });
    this.#bus.emit("vrrp.group", { group: this.#cfg.name, from, to: next, instances: [...this.#cfg.instances], reason, vips });
    const key = next === "init" ? undefined : NOTIFY_KEY[next];
    const command = key ? this.#cfg.notify[key] : undefined;
    if (command) this.#notify.pushGroup(command, this.#cfg.name, next === "stopped" ? "stop" : next);
  }
}
