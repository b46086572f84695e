// What this host knows of the peer: its last state over the link, when it was heard, and whether
// it runs the same configuration (drift), with the first keys that differ.

import type { Clock } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { differingKeys, type Fingerprint, shortHash } from "./fingerprint.ts";
import type { ConfigMessage, PeerState } from "./messages.ts";

/** The comparison of both configurations, as last known. */
export interface DriftView {
  same: boolean;
  ours: string;
  theirs: string;
  /** The first differing keys (empty when the peer's keys are unknown or the files are the same). */
  keys: string[];
  /** Differing keys beyond those listed. */
  more: number;
}

export class PeerTracker {
  /** The peer's last state, and when it came (wall and monotonic ms). */
  state: PeerState | undefined;
  lastSeen: number | undefined;
  lastSeenMono: number | undefined;
  drift: DriftView | undefined;
  #leaves: ConfigMessage | undefined;
  #ours: Fingerprint;
  readonly #clock: Clock;
  readonly #bus: EventBus;
  readonly #log: Logger;
  /** The drift last announced (ours|theirs), so each difference is reported once. */
  #announced: string | undefined;

  constructor(ours: Fingerprint, deps: { clock: Clock; bus: EventBus; log: Logger }) {
    this.#ours = ours;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
  }

  /** Our configuration changed (reload): compare again. */
  setOurs(fp: Fingerprint): void {
    this.#ours = fp;
    this.#compare();
  }

  /** The peer's fingerprint leaves (sent before its state, on connect and after its reloads). */
  config(m: ConfigMessage): void {
    this.#leaves = m;
    this.#compare();
  }

  /** The peer's state arrived. */
  update(s: PeerState): void {
    const hashChanged = this.state?.config.hash !== s.config.hash;
    this.state = s;
    this.lastSeen = this.#clock.wallNow();
    this.lastSeenMono = this.#clock.now();
    if (hashChanged || !this.drift) this.#compare();
  }

  get #peerName(): string {
    return this.state?.hostname ?? "the peer";
  }

  #compare(): void {
    const s = this.state;
    if (!s) return;
    const ours = this.#ours.hash;
    const theirs = s.config.hash;
    if (ours === theirs) {
      this.drift = { same: true, ours, theirs, keys: [], more: 0 };
      if (this.#announced !== undefined) {
        this.#log.info(`Config drift over: ${this.#peerName} runs the same configuration again (${shortHash(ours)})`);
        this.#bus.emit("pair.config_same", { peer: this.#peerName, hash: shortHash(ours) });
        this.#announced = undefined;
      }
      return;
    }
    const leaves = this.#leaves?.hash === theirs ? this.#leaves.leaves : undefined;
    const diff = leaves ? differingKeys(this.#ours.leaves, leaves) : { keys: [], more: 0 };
    this.drift = { same: false, ours, theirs, keys: diff.keys, more: diff.more };
    const id = `${ours}|${theirs}`;
    if (this.#announced === id) return;
    this.#announced = id;
    const where = diff.keys.length ? `first differing keys: ${diff.keys.join(", ")}${diff.more ? ` (+${diff.more} more)` : ""}` : "the peer's keys are not known yet";
    this.#log.warn(`Config drift: ${this.#peerName} (${s.role}) runs another configuration (ours ${shortHash(ours)}, theirs ${shortHash(theirs)}): ${where}`);
    this.#bus.emit("pair.config_drift", { peer: this.#peerName, ours: shortHash(ours), theirs: shortHash(theirs), keys: diff.keys });
  }
}
