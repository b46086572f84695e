// The event bus: subsystems publish typed events; log, alerts, stats and VRRP tracking subscribe.

/** Every event tandem publishes, by name, with its payload. */
export interface EventMap {
  "tandem.started": { role: string; pid: number };
  "tandem.stopping": { role: string; reason: string };
  "config.reloading": { file: string };
  "config.reloaded": { file: string };
  "config.reload_failed": { file: string; errors: string[] };
  "listener.failed": { proxy: string; address: string; reason: string };
  "listener.bound": { proxy: string; address: string };
  "server.up": { proxy: string; server: string; reason: string };
  "server.down": { proxy: string; server: string; reason: string; check?: string };
  "server.state": { proxy: string; server: string; state: string; previous: string; reason: string };
  "proxy.no_server": { proxy: string };
  "proxy.health": { proxy: string; healthy: boolean; reason: string };
  "vrrp.state": { instance: string; from: string; to: string; priority: number; reason: string; vips: string[]; group?: string };
  "vrrp.group": { group: string; from: string; to: string; instances: string[]; reason: string; vips: string[] };
  "vrrp.split_brain": { instance: string; peer: string; peerPriority: number };
  /** The VIPs are about to be removed from this host (published just before; the pair closes their connections). */
  "vrrp.vips_leaving": { instance: string; vips: string[] };
  "vrrp.priority": { instance: string; priority: number; base: number; reason: string };
  "bgp.session_up": { peer: string; as: number; routerId: string };
  "bgp.session_down": { peer: string; as: number; reason: string };
  "bgp.announced": { prefix: string; reason: string };
  "bgp.withdrawn": { prefix: string; reason: string };
  "job.failed": { job: string; reason: string };
  "job.ok": { job: string };
  "notify.delivered": { notifier: string; id: string };
  "notify.dropped": { notifier: string; id: string; reason: string };
  /** A served certificate expires soon (or has expired: days <= 0). */
  "tls.cert_expiring": { name: string; file: string; notAfter: string; days: number };
  /** Certificates were (re)loaded from their files. */
  "tls.loaded": { certificates: number; errors: string[] };
  /** A certificate file under state_dir/acme/ was (re)written: here by an order, or from the peer. The proxy reloads its certificates. */
  "acme.installed": { name: string; file: string; notAfter: string };
  /** An ACME order succeeded: where the new certificate goes next (src/acme/deliver.ts; the pair link subscribes). */
  "acme.issued": { name: string; domains: string[]; file: string; pem: string; notAfter: string };
  "acme.failed": { name: string; domains: string[]; reason: string; retryIn: number };
  /** The pair link (src/pair/) is authenticated and running; down: it ended (the peer may be gone). */
  "pair.link_up": { peer: string; address: string; role: string };
  "pair.link_down": { peer: string; address: string; reason: string };
  /** Someone at address tried the pair link and was refused (wrong key, same role, bad protocol). */
  "pair.refused": { address: string; reason: string };
  /** The peer runs another configuration (normalized hashes differ); keys: the first differing ones. */
  "pair.config_drift": { peer: string; ours: string; theirs: string; keys: string[] };
  /** The configurations of both hosts are the same again (or were found the same after a drift). */
  "pair.config_same": { peer: string; hash: string };
  /** Both hosts are MASTER for the same VRID, seen over the pair link or from adverts. */
  "pair.split_brain": { instance: string; vrid: number; peer: string; source: "link" | "adverts" };
  /** A split brain is over (VRRP re-sends gratuitous ARP if this host kept the VIP); duration in ms. */
  "pair.split_brain_ended": { instance: string; vrid: number; peer: string; duration: number };
  /** A full stick-table resync with the peer finished (sent or received). */
  "pair.resync": { direction: "sent" | "received"; entries: number; ms: number };
}

export type EventName = keyof EventMap;

/** An event as delivered to "*" subscribers. */
export interface AnyEvent {
  name: EventName;
  data: EventMap[EventName];
  /** Wall-clock milliseconds. */
  at: number;
}

type Handler<K extends EventName> = (data: EventMap[K], at: number) => void;

/** A synchronous, typed publish/subscribe bus. A throwing subscriber never breaks the publisher. */
export class EventBus {
  #handlers = new Map<string, Set<(data: unknown, at: number) => void>>();
  #any = new Set<(event: AnyEvent) => void>();
  #onError: (err: unknown, name: string) => void;
  #wallNow: () => number;

  constructor(options: { onError?: (err: unknown, name: string) => void; wallNow?: () => number } = {}) {
    this.#onError = options.onError ?? (() => {});
    this.#wallNow = options.wallNow ?? Date.now;
  }

  /** Subscribes to one event; returns the unsubscribe function. */
  on<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    const h = handler as (data: unknown, at: number) => void;
    set.add(h);
    return () => set.delete(h);
  }

  /** Subscribes to every event. */
  onAny(handler: (event: AnyEvent) => void): () => void {
    this.#any.add(handler);
    return () => this.#any.delete(handler);
  }

  emit<K extends EventName>(name: K, data: EventMap[K]): void {
    const at = this.#wallNow();
    for (const h of this.#handlers.get(name) ?? []) {
      try {
        h(data, at);
      } catch (err) {
        this.#onError(err, name);
      }
    }
    for (const h of this.#any) {
      try {
        h({ name, data, at });
      } catch (err) {
        this.#onError(err, name);
      }
    }
  }
}
