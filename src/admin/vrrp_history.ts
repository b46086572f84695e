// What the stats page shows about VRRP beyond status(): recent transitions and when the peer was last heard.

import type { EventBus } from "../core/events.ts";

/** One VRRP state change or priority change, newest last. */
export interface VrrpTransition {
  /** Wall-clock ms. */
  at: number;
  instance: string;
  kind: "state" | "priority";
  from: string;
  to: string;
  priority: number;
  reason: string;
}

/** How many transitions the page keeps. */
const KEEP = 20;

/**
 * Subscribes to vrrp.state and vrrp.priority and keeps the last few, plus a per-instance count
 * of state transitions (a Prometheus counter). `observeAdverts` is fed the accepted-advert
 * counter from status(); when it grows, the peer was heard.
 */
export class VrrpHistory {
  readonly transitions: VrrpTransition[] = [];
  /** State transitions per instance since start. */
  readonly counts = new Map<string, number>();
  #accepted = new Map<string, number>();
  #peerSeen = new Map<string, number>();
  #unsubscribe: (() => void)[];

  constructor(bus: EventBus) {
    this.#unsubscribe = [
      bus.on("vrrp.state", (e, at) => {
        this.counts.set(e.instance, (this.counts.get(e.instance) ?? 0) + 1);
        this.#push({ at, instance: e.instance, kind: "state", from: e.from, to: e.to, priority: e.priority, reason: e.reason });
      }),
      bus.on("vrrp.priority", (e, at) => {
        const last = [...this.transitions].reverse().find((t) => t.instance === e.instance);
        this.#push({ at, instance: e.instance, kind: "priority", from: String(last?.priority ?? e.base), to: String(e.priority), priority: e.priority, reason: e.reason });
      }),
    ];
  }

  /** Feeds the instance's accepted-advert count; returns when the peer was last heard (wall ms). */
  observeAdverts(instance: string, accepted: number, wallNow: number): number | undefined {
    const before = this.#accepted.get(instance);
    this.#accepted.set(instance, accepted);
    if (before !== undefined && accepted > before) this.#peerSeen.set(instance, wallNow);
    if (before === undefined && accepted > 0) this.#peerSeen.set(instance, wallNow);
    return this.#peerSeen.get(instance);
  }

  /** When the peer was last heard, wall ms. */
  peerSeen(instance: string): number | undefined {
    return this.#peerSeen.get(instance);
  }

  close(): void {
    for (const u of this.#unsubscribe) u();
  }

  #push(t: VrrpTransition): void {
    this.transitions.push(t);
    if (this.transitions.length > KEEP) this.transitions.shift();
  }
}
