// Decides what is announced: an address only while this node can serve it (its proxies healthy,
// past the start-up delay, VRRP master for a VRRP VIP), local on the interface while announced,
// and the stop sequence (graceful-shutdown community, withdraw, wait, remove).

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { describeError } from "../core/errors.ts";
import type { AddressManager } from "../vrrp/ip_address.ts";
import type { BgpAnnounce, BgpConfig } from "./config.ts";
import type { WantedRoute } from "./fsm.ts";
import { makePrefix } from "./prefix.ts";
import { COMMUNITY } from "./update.ts";

export interface AnnouncerDeps {
  clock: Clock;
  bus: EventBus;
  log: Logger;
  /** The proxies' health as VRRP tracking reads it; undefined when no proxy runs in this process. */
  health?: (proxies: string[]) => { healthy: boolean; reason: string };
  /** VRRP's addresses: announced only while this host is the VRRP master, and left to VRRP on its interface. */
  /** VRRP's VIPs; isMaster(address): this host is master of the instance holding the address. */
  vrrp?: { vips: string[]; isMaster(address: string): boolean };
  /** Adds and removes addresses on the configured interface. */
  addresses: AddressManager;
  /** True when the address is on the interface now (leftovers of a killed process). */
  hasAddress(dev: string, address: string): boolean;
  /** Receives the routes every session should carry, each time they change. */
  publish(routes: WantedRoute[]): void;
  /** How often health is re-read besides the events (ms). */
  pollInterval?: number;
}

export type AnnounceState = "waiting" | "announced" | "withdrawn" | "stopping";

/** One address as status() reports it. */
export interface AnnounceStatus {
  prefix: string;
  state: AnnounceState;
  /** Why it is (not) announced. */
  reason: string;
  /** Wall ms of the last change. */
  since: number;
  proxies: string[];
  /** Announcements since start (more than one: it was withdrawn and came back). */
  announcements: number;
}

interface Entry {
  a: BgpAnnounce;
  state: AnnounceState;
  reason: string;
  since: number;
  local: boolean;
  announcements: number;
}

const keyOf = (a: BgpAnnounce) => `${a.prefix.address}/${a.prefix.prefix}`;

/** Health-gated announcements. start(), update() on reload, stop() on a planned leave. */
export class Announcer {
  #cfg: BgpConfig;
  #d: AnnouncerDeps;
  #entries = new Map<string, Entry>();
  #startedAt = 0;
  #phase: "idle" | "running" | "graceful" | "stopped" = "idle";
  #timers: TimerHandle[] = [];
  #poll?: TimerHandle;
  #unsubscribe: (() => void)[] = [];
  #published = "";

  constructor(cfg: BgpConfig, deps: AnnouncerDeps) {
    this.#cfg = cfg;
    this.#d = deps;
    this.#sync(cfg);
  }

  /** Removes addresses an earlier run left behind, then announces what is healthy (after announce_delay). */
  start(): void {
    const { log, bus, clock } = this.#d;
    for (const e of this.#entries.values()) {
      if (this.#vrrpOwned(e.a) || !this.#d.hasAddress(this.#cfg.interface, e.a.prefix.address)) continue;
      log.warn(`Removing ${keyOf(e.a)} left on "${this.#cfg.interface}" by an earlier run`);
      this.#removeLocal(e, true);
    }
    this.#startedAt = clock.now();
    this.#phase = "running";
    const recheck = () => this.evaluate();
    this.#unsubscribe = [
      bus.on("proxy.health", recheck), bus.on("listener.bound", recheck), bus.on("listener.failed", recheck),
      bus.on("server.state", recheck), bus.on("vrrp.state", recheck),
    ];
    if (this.#cfg.announceDelay > 0) this.#timers.push(clock.setTimeout(recheck, this.#cfg.announceDelay));
    const every = this.#d.pollInterval ?? 500;
    const poll = () => {
      if (this.#phase !== "running") return;
      this.evaluate();
      this.#poll = clock.setTimeout(poll, every);
    };
    this.#poll = clock.setTimeout(poll, every);
    this.evaluate();
  }

  /** Applies a reloaded section: new addresses are checked, removed ones withdrawn, attributes re-sent. */
  update(cfg: BgpConfig): void {
    const gone = [...this.#entries.values()].filter((e) => !cfg.announce.some((a) => keyOf(a) === keyOf(e.a)));
    this.#cfg = cfg;
    this.#sync(cfg);
    this.#publish();
    for (const e of gone) {
      if (e.state === "announced") this.#d.bus.emit("bgp.withdrawn", { prefix: keyOf(e.a), reason: "no longer in the configuration" });
      this.#removeLocal(e);
    }
    this.evaluate();
  }

  /** Re-reads health and announces or withdraws what changed. */
  evaluate(): void {
    if (this.#phase !== "running") return;
    const now = this.#d.clock.now();
    const changed: { e: Entry; announce: boolean }[] = [];
    for (const e of this.#entries.values()) {
      const { want, state, reason } = this.#verdict(e, now);
      if (want !== (e.state === "announced")) changed.push({ e, announce: want });
      if (e.state !== state || e.reason !== reason) {
        if (e.state !== state) e.since = this.#d.clock.wallNow();
        e.state = state;
        e.reason = reason;
      }
    }
    if (changed.length === 0) return;
    // The address is local before the route points at it, and gone only after the withdrawal left.
    for (const c of changed) {
      if (c.announce) {
        this.#addLocal(c.e);
        c.e.announcements++;
      }
    }
    this.#publish();
    for (const c of changed) {
      const prefix = keyOf(c.e.a);
      if (c.announce) {
        this.#d.log.info(`Announcing ${prefix}: ${c.e.reason}`, { prefix });
        this.#d.bus.emit("bgp.announced", { prefix, reason: c.e.reason });
      } else {
        this.#d.log.warn(`Withdrawing ${prefix}: ${c.e.reason}`, { prefix });
        this.#d.bus.emit("bgp.withdrawn", { prefix, reason: c.e.reason });
        // Not servable: an address that stayed local would take the connections still on their
        // way here and refuse them; without it they are retried, by then toward another node.
        this.#removeLocal(c.e);
      }
    }
  }

  /**
   * The planned leave: announce with GRACEFUL_SHUTDOWN (RFC 8326) for graceful_shutdown ms when
   * set, withdraw everything, keep the addresses local for withdraw_wait ms while the routers move
   * the flows (the proxy's listeners are still open), then remove them.
   */
  async stop(reason: string): Promise<void> {
    if (this.#phase === "stopped" || this.#phase === "idle") {
      this.#phase = "stopped";
      this.#cleanup();
      return;
    }
    const { log, bus } = this.#d;
    this.#cleanup();
    const announced = [...this.#entries.values()].filter((e) => e.state === "announced");
    if (announced.length && this.#cfg.gracefulShutdown > 0) {
      this.#phase = "graceful";
      log.info(`Stopping: announcing ${announced.map((e) => keyOf(e.a)).join(", ")} with the GRACEFUL_SHUTDOWN community for ${this.#cfg.gracefulShutdown}ms`);
      this.#publish();
      await this.#sleep(this.#cfg.gracefulShutdown);
    }
    this.#phase = "stopped";
    for (const e of this.#entries.values()) {
      if (e.state === "announced") bus.emit("bgp.withdrawn", { prefix: keyOf(e.a), reason: `stopping: ${reason}` });
      e.state = "stopping";
      e.reason = `stopping: ${reason}`;
      e.since = this.#d.clock.wallNow();
    }
    this.#publish();
    if (announced.length) {
      log.info(`Withdrew ${announced.map((e) => keyOf(e.a)).join(", ")}; serving for ${this.#cfg.withdrawWait}ms more while the routers move the flows`);
      await this.#sleep(this.#cfg.withdrawWait);
    }
    for (const e of this.#entries.values()) this.#removeLocal(e);
  }

  status(): AnnounceStatus[] {
    return [...this.#entries.values()].map((e) => ({ prefix: keyOf(e.a), state: e.state, reason: e.reason, since: e.since, proxies: e.a.proxies ?? [], announcements: e.announcements }));
  }

  /** The routes sessions should carry now. */
  routes(): WantedRoute[] {
    const graceful = this.#phase === "graceful";
    if (this.#phase === "stopped") return [];
    return [...this.#entries.values()].filter((e) => e.state === "announced").map((e) => ({
      prefix: makePrefix(e.a.prefix.address, e.a.prefix.prefix),
      med: this.#cfg.med,
      communities: graceful ? [...this.#cfg.communities.filter((c) => c !== COMMUNITY.GRACEFUL_SHUTDOWN), COMMUNITY.GRACEFUL_SHUTDOWN] : this.#cfg.communities,
      largeCommunities: this.#cfg.largeCommunities,
    }));
  }

  #verdict(e: Entry, now: number): { want: boolean; state: AnnounceState; reason: string } {
    const h = this.#d.health ? this.#d.health(e.a.proxies ?? []) : { healthy: false, reason: "no proxy runs in this process" };
    if (!h.healthy) return { want: false, state: "withdrawn", reason: h.reason };
    if (this.#vrrpOwned(e.a) && !this.#d.vrrp!.isMaster(e.a.prefix.address)) return { want: false, state: "withdrawn", reason: "a VRRP address, and this host is not the VRRP master" };
    const at = this.#startedAt + this.#cfg.announceDelay;
    if (e.state !== "announced" && now < at) return { want: false, state: "waiting", reason: `announce_delay: healthy, announced ${Math.ceil((at - now) / 1000)}s after start` };
    return { want: true, state: "announced", reason: h.reason };
  }

  #vrrpOwned(a: BgpAnnounce): boolean {
    return this.#d.vrrp?.vips.includes(a.prefix.address) ?? false;
  }

  #sync(cfg: BgpConfig): void {
    const next = new Map<string, Entry>();
    for (const a of cfg.announce) {
      const old = this.#entries.get(keyOf(a));
      next.set(keyOf(a), old ? { ...old, a } : { a, state: "withdrawn", reason: "not checked yet", since: this.#d.clock.wallNow(), local: false, announcements: 0 });
    }
    this.#entries = next;
  }

  #publish(): void {
    const routes = this.routes();
    const text = JSON.stringify(routes);
    if (text === this.#published) return;
    this.#published = text;
    this.#d.publish(routes);
  }

  #addLocal(e: Entry): void {
    if (this.#vrrpOwned(e.a) || e.local) return;
    try {
      this.#d.addresses.add({ address: e.a.prefix.address, prefix: e.a.prefix.prefix, dev: this.#cfg.interface });
      e.local = true;
    } catch (err) {
      this.#d.log.error(describeError(err), { prefix: keyOf(e.a) });
    }
  }

  #removeLocal(e: Entry, force = false): void {
    if (this.#vrrpOwned(e.a) || (!e.local && !force)) return;
    try {
      this.#d.addresses.remove({ address: e.a.prefix.address, prefix: e.a.prefix.prefix, dev: this.#cfg.interface });
      e.local = false;
    } catch (err) {
      this.#d.log.error(describeError(err), { prefix: keyOf(e.a) });
    }
  }

  #cleanup(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    this.#poll?.cancel();
    this.#poll = undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => this.#timers.push(this.#d.clock.setTimeout(r, ms)));
  }
}
