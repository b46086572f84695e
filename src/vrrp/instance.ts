// One VRRP instance: runs the pure state machine against a clock, the network and the tracker.

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { describeError } from "../core/errors.ts";
import type { VrrpConfig } from "./config_types.ts";
import { initialState, masterDownInterval, nextDeadline, step, type Action, type MachineConfig, type MachineEvent, type MachineState } from "./state_machine.ts";
import { validateReceived, ReceiveStats, type ReceiveConfig } from "./receive.ts";
import { startGarp, type ArpSender } from "./arp.ts";
import type { AddressManager, VipSpec } from "./ip_address.ts";
import type { VrrpTransport } from "./socket.ts";
import { Tracker, type TrackResult, type TrackSources } from "./track.ts";
import { NotifyQueue } from "./notify.ts";
import type { MemberView } from "./sync_group.ts";
import type { Ipv6Fields } from "./packet6.ts";

/** The I/O an instance performs, behind interfaces so tests can substitute them. */
export interface InstanceIo {
  transport: VrrpTransport;
  addresses: AddressManager;
  arp: ArpSender;
  track: TrackSources;
}

export interface InstanceDeps {
  clock: Clock;
  bus: EventBus;
  log: Logger;
  io: InstanceIo;
  /** Source of our adverts and tie-breaker: unicast_src or the interface's primary address. */
  primaryIp: string;
  /** We own the VIP (it is our primary address): priority 255, never removed. */
  owner: boolean;
  /**
   * Called after the instance changed in a way its sync group reads (state, wanting master, its
   * own fault): the subsystem re-evaluates the group (src/vrrp/sync_group.ts).
   */
  onChange?: (instance: VrrpInstance) => void;
}

/** What status() reports. */
export interface InstanceStatus {
  instance: string;
  interface: string;
  vrid: number;
  family: 4 | 6;
  /** The sync group it belongs to, if any. */
  syncGroup?: string;
  state: string;
  priority: number;
  basePriority: number;
  master?: string;
  vips: string[];
  /** Wall ms the instance started. */
  since: number;
  fault?: string;
  received: { accepted: number; dropped: Record<string, number>; warnings: Record<string, number> };
  track: { name: string; weight: number; ok: boolean; detail: string }[];
  /** The last advert accepted from another router: its source, priority and wall ms (for `tandem why`). */
  lastAdvert?: { src: string; priority: number; at: number };
}

const NOTIFY_KEY = { master: "master", backup: "backup", fault: "fault", stopped: "stop" } as const;
const DROP_LOG_EVERY = 10_000;

/** Drives one VRRP instance. Construct, then start(); stop() sends priority 0 and removes VIPs. */
export class VrrpInstance {
  #cfg: VrrpConfig;
  #d: InstanceDeps;
  #machine: MachineConfig;
  #state: MachineState;
  #timer?: TimerHandle;
  #garp?: { stop(): void };
  #tracker: Tracker;
  #notify: NotifyQueue;
  #stats = new ReceiveStats();
  #rx: ReceiveConfig;
  #lastDropLog = new Map<string, number>();
  #since: number;
  /** Our own tracking's fault; #groupFault is one the sync group imposed. */
  #fault?: string;
  #lastAdvert?: { src: string; priority: number; at: number };
  #groupFault?: string;

  constructor(cfg: VrrpConfig, deps: InstanceDeps) {
    this.#cfg = cfg;
    this.#d = deps;
    this.#machine = {
      version: cfg.version, advertInterval: cfg.advertInterval, preempt: cfg.preempt, preemptDelay: cfg.preemptDelay,
      primaryIp: deps.primaryIp, synced: cfg.syncGroup !== undefined,
    };
    this.#state = initialState(this.#machine, deps.owner ? 255 : cfg.priority);
    this.#since = deps.clock.wallNow();
    this.#rx = {
      family: cfg.family, version: cfg.version, vrid: cfg.vrid, advertInterval: cfg.advertInterval, auth: cfg.auth,
      virtualIps: cfg.virtualIps.map((v) => v.cidr.address),
      ownAddresses: [deps.primaryIp], unicastPeers: cfg.unicastPeers,
    };
    this.#tracker = new Tracker({
      base: deps.owner ? 255 : cfg.priority, track: cfg.track, implicitInterfaces: [cfg.interface],
      clock: deps.clock, sources: deps.io.track, onChange: (r) => this.#onTrack(r),
    });
    this.#notify = new NotifyQueue(cfg.notify.timeout, (command, r) => {
      if (r.ok) this.#d.log.debug("notify command finished", { command, result: r.reason });
      else this.#d.log.warn(`Notify command failed: ${r.reason}`, { command, output: r.output.trim().slice(0, 200) });
    });
  }

  get name(): string {
    return this.#cfg.name;
  }

  /** Current state name. */
  get state(): string {
    return this.#state.name;
  }

  /** What the instance's sync group reads of it. */
  view(): MemberView {
    return { name: this.#cfg.name, state: this.#state.name, wantMaster: this.#state.wantMaster, ownFault: this.#fault, groupFault: this.#groupFault !== undefined };
  }

  /** Sync group: a member's own tracking fails, so this one goes FAULT too (keepalived vrrp_sync_fault). */
  groupFault(reason: string): void {
    this.#groupFault = reason;
    this.#dispatch({ type: "fault", reason });
  }

  /** Sync group: no member fails any more; recovers unless its own tracking still fails. */
  groupRecover(reason: string): void {
    if (this.#groupFault === undefined) return;
    this.#groupFault = undefined;
    if (this.#fault === undefined) this.#dispatch({ type: "recover", reason });
  }

  /** Sync group: every member may be master now (sync_master), or one left master (sync_backup). */
  sync(type: "sync_master" | "sync_backup", reason: string): void {
    this.#dispatch({ type, reason });
  }

  /** Starts tracking, the receiver and the machine. */
  start(): void {
    this.#d.io.transport.onPacket((b, ip) => this.#receive(b, ip));
    this.#d.io.transport.onError((err) => this.#d.log.warn(describeError(err)));
    const first = this.#tracker.evaluate();
    this.#dispatch({ type: "priority", priority: first.priority });
    this.#tracker.start();
    if (first.fault) {
      this.#fault = first.fault;
      this.#dispatch({ type: "fault", reason: first.fault });
    } else {
      this.#dispatch({ type: "start" });
    }
  }

  /** Clean stop: a master sends priority 0 and removes its VIPs; notify "stop" runs. */
  async stop(reason: string): Promise<void> {
    this.#tracker.stop();
    this.#dispatch({ type: "stop", reason });
    this.#timer?.cancel();
    this.#garp?.stop();
    this.#d.io.arp.close();
    // Let the priority-0 advert leave before the socket closes.
    await new Promise((r) => setTimeout(r, 20));
    this.#d.io.transport.close();
    await this.#notify.drain();
  }

  /** Operator demotion: a master hands over (priority 0) and stays backup until needed. */
  demote(): void {
    this.#dispatch({ type: "demote" });
  }

  /** Applies a new config that keeps the same network identity (priority, preempt, tracking, notify, sync group). */
  update(cfg: VrrpConfig): void {
    this.#cfg = cfg;
    this.#machine = { ...this.#machine, preempt: cfg.preempt, preemptDelay: cfg.preemptDelay, synced: cfg.syncGroup !== undefined };
    if (cfg.syncGroup === undefined && this.#groupFault !== undefined) this.groupRecover("left its sync group");
    // Out of its group, a backup that was waiting for the group's word no longer needs it.
    if (cfg.syncGroup === undefined && this.#state.wantMaster) this.#dispatch({ type: "sync_master", reason: "left its sync group" });
    this.#state = { ...this.#state, config: this.#machine };
    this.#tracker.stop();
    this.#tracker = new Tracker({
      base: this.#d.owner ? 255 : cfg.priority, track: cfg.track, implicitInterfaces: [cfg.interface],
      clock: this.#d.clock, sources: this.#d.io.track, onChange: (r) => this.#onTrack(r),
    });
    this.#tracker.start();
    this.#onTrack(this.#tracker.evaluate());
  }

  status(): InstanceStatus {
    const s = this.#state;
    return {
      instance: this.#cfg.name,
      interface: this.#cfg.interface,
      vrid: this.#cfg.vrid,
      family: this.#cfg.family,
      syncGroup: this.#cfg.syncGroup,
      state: s.name,
      priority: s.priority,
      basePriority: this.#cfg.priority,
      master: s.name === "master" ? this.#d.primaryIp : s.masterIp,
      vips: this.#cfg.virtualIps.map((v) => `${v.cidr.address}/${v.cidr.prefix}`),
      since: this.#since,
      fault: this.#fault ?? this.#groupFault,
      received: {
        accepted: this.#stats.accepted,
        dropped: { ...this.#stats.dropped } as Record<string, number>,
        warnings: { ...this.#stats.warnings } as Record<string, number>,
      },
      track: this.#tracker.items(),
      lastAdvert: this.#lastAdvert,
    };
  }

  /** Sends gratuitous ARP for the VIPs again when this instance is master (after a split brain ends). */
  regarp(): void {
    if (this.#state.name === "master") this.#execute({ type: "garp" });
  }

  /** Master_Down_Interval for the current priority, in ms (for tests and status). */
  masterDownInterval(): number {
    return masterDownInterval(this.#machine, this.#state.priority, this.#state.masterAdverInterval);
  }

  #onTrack(r: TrackResult): void {
    if (r.fault) {
      const changed = this.#fault !== r.fault;
      if (changed) this.#d.log.warn(`Tracking failed: ${r.fault}`, { instance: this.#cfg.name });
      this.#fault = r.fault;
      this.#dispatch({ type: "fault", reason: r.fault });
      if (changed) this.#d.onChange?.(this);
      return;
    }
    if (r.priority !== this.#state.priority) {
      this.#d.bus.emit("vrrp.priority", { instance: this.#cfg.name, priority: r.priority, base: this.#cfg.priority, reason: r.reason });
      this.#dispatch({ type: "priority", priority: r.priority });
    }
    if (this.#fault !== undefined) {
      const was = this.#fault;
      this.#fault = undefined;
      // The group first: while another member still fails, it keeps this one in FAULT.
      this.#d.onChange?.(this);
      if (this.#groupFault === undefined) this.#dispatch({ type: "recover", reason: `tracking recovered (was: ${was})` });
    }
  }

  #receive(bytes: Uint8Array, ip?: Ipv6Fields): void {
    const v = validateReceived(bytes, this.#rx, ip);
    this.#stats.count(v);
    if (!v.accept) {
      if (v.reason !== "unknown_vrid" && v.reason !== "own_packet") this.#rateLog(v.reason, `Dropped VRRP packet: ${v.reason}`, v.src ? { detail: v.detail, src: v.src } : { detail: v.detail });
      return;
    }
    for (const w of v.warnings) this.#rateLog(w.code, `VRRP advert accepted with ${w.code.replace("_", " ")}`, { detail: w.detail, src: v.advert.src });
    this.#lastAdvert = { src: v.advert.src, priority: v.advert.priority, at: this.#d.clock.wallNow() };
    this.#dispatch({ type: "advert", src: v.advert.src, priority: v.advert.priority, advertInterval: v.advert.advertInterval });
  }

  #rateLog(key: string, msg: string, fields: Record<string, unknown>): void {
    const now = this.#d.clock.now();
    const last = this.#lastDropLog.get(key);
    if (last !== undefined && now - last < DROP_LOG_EVERY) return;
    this.#lastDropLog.set(key, now);
    this.#d.log.warn(msg, { instance: this.#cfg.name, ...fields });
  }

  #dispatch(e: MachineEvent): void {
    const before = this.#state;
    const r = step(this.#state, e, this.#d.clock.now());
    this.#state = r.state;
    for (const a of r.actions) {
      try {
        this.#execute(a);
      } catch (err) {
        this.#d.log.error(`VRRP action ${a.type} failed: ${describeError(err)}`, { instance: this.#cfg.name });
      }
    }
    this.#timer?.cancel();
    this.#timer = undefined;
    const at = nextDeadline(this.#state);
    if (at !== undefined) this.#timer = this.#d.clock.setTimeout(() => this.#dispatch({ type: "timer" }), Math.max(0, at - this.#d.clock.now()));
    if (before.name !== r.state.name || before.wantMaster !== r.state.wantMaster) this.#d.onChange?.(this);
  }

  #vipSpecs(): VipSpec[] {
    return this.#cfg.virtualIps.map((v) => ({ address: v.cidr.address, prefix: v.cidr.prefix, dev: v.dev ?? this.#cfg.interface, label: v.label }));
  }

  #execute(a: Action): void {
    const { io, log, bus } = this.#d;
    const cfg = this.#cfg;
    switch (a.type) {
      case "send_advert":
        io.transport.sendAdvert({
          version: cfg.version, vrid: cfg.vrid, priority: a.priority, advertInterval: cfg.advertInterval,
          addresses: cfg.virtualIps.map((v) => v.cidr.address), password: cfg.version === 2 ? cfg.auth?.password : undefined,
        });
        return;
      case "add_vips":
        if (this.#d.owner) return;
        for (const vip of this.#vipSpecs()) {
          try {
            io.addresses.add(vip);
          } catch (err) {
            log.error(describeError(err), { instance: cfg.name });
          }
        }
        return;
      case "remove_vips":
        this.#garp?.stop();
        this.#garp = undefined;
        if (this.#d.owner) return;
        // Said before the addresses go: a connection closed after would send its FIN from an address no longer here.
        bus.emit("vrrp.vips_leaving", { instance: cfg.name, vips: cfg.virtualIps.map((v) => v.cidr.address) });
        for (const vip of this.#vipSpecs()) {
          try {
            io.addresses.remove(vip);
          } catch (err) {
            log.error(describeError(err), { instance: cfg.name });
          }
        }
        return;
      case "garp":
        this.#garp?.stop();
        this.#garp = startGarp(this.#d.clock, io.arp, this.#vipSpecs().map((v) => ({ dev: v.dev, address: v.address })), cfg.garp, (err) =>
          log.warn(describeError(err), { instance: cfg.name }));
        return;
      case "transition": {
        this.#since = this.#d.clock.wallNow();
        const vips = cfg.virtualIps.map((v) => v.cidr.address);
        log.info(`${cfg.name}: ${a.from} → ${a.to}: ${a.reason}`, { instance: cfg.name, priority: a.priority });
        bus.emit("vrrp.state", { instance: cfg.name, from: a.from, to: a.to, priority: a.priority, reason: a.reason, vips, ...(cfg.syncGroup ? { group: cfg.syncGroup } : {}) });
        const key = a.to === "init" ? undefined : NOTIFY_KEY[a.to];
        const command = key ? cfg.notify[key] : undefined;
        if (command) this.#notify.push(command, cfg.name, a.to === "stopped" ? "stop" : a.to, a.priority);
        return;
      }
      case "want_master":
        log.info(`${cfg.name}: would become master (${a.reason}); waiting for sync group ${cfg.syncGroup ?? "?"}`, { instance: cfg.name });
        return;
      case "split_brain":
        log.warn(`Split brain: another master for VRID ${cfg.vrid} at ${a.peer} (priority ${a.peerPriority}, ours ${this.#state.priority}); ${a.resolution}`, { instance: cfg.name });
        bus.emit("vrrp.split_brain", { instance: cfg.name, peer: a.peer, peerPriority: a.peerPriority });
        return;
      case "log":
        log[a.level](a.message, { instance: cfg.name, ...a.fields });
        return;
    }
  }
}
