// Questions to the peer over the link (validate, reload) and waits on its state, with timeouts;
// everything pending fails at once when the link goes down.

import type { Clock } from "../core/clock.ts";
import { TandemError } from "../core/errors.ts";
import type { PairConnection } from "./connection.ts";
import { encodeJson, MSG, type PeerState, type ResponseMessage } from "./messages.ts";

interface Pending {
  resolve(r: ResponseMessage): void;
  reject(err: Error): void;
  cancel(): void;
}

export class RequestTable {
  readonly #clock: Clock;
  #id = 0;
  readonly #pending = new Map<number, Pending>();
  readonly #watchers = new Set<(s: PeerState) => void>();
  /** States received so far (a wait can ask for one that came after a point). */
  #states = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Sends a request; resolves with the answer. Rejects (TandemError E_PAIR_REQUEST) without a link, on timeout or when the link goes down. */
  ask(conn: PairConnection | undefined, op: "validate" | "reload", timeout: number): Promise<ResponseMessage> {
    if (!conn) return Promise.reject(new TandemError("E_PAIR_REQUEST", "the pair link is down"));
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new TandemError("E_PAIR_REQUEST", `no answer to "${op}" within ${timeout / 1000}s`));
      }, timeout);
      this.#pending.set(id, { resolve, reject, cancel: () => timer.cancel() });
      conn.send(encodeJson(MSG.request, { id, op }));
    });
  }

  /** An answer from the peer (unknown ids are late answers: ignored). */
  answered(r: ResponseMessage): void {
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    p.cancel();
    p.resolve(r);
  }

  /** The peer's state arrived: waits that it satisfies end. */
  peerState(s: PeerState): void {
    this.#states++;
    for (const w of [...this.#watchers]) w(s);
  }

  /** A mark for waitPeer: only states that arrive after it count. */
  mark(): number {
    return this.#states;
  }

  /**
   * Waits until a state of the peer received after `since` (a mark) satisfies pred; the current
   * one counts if it came after the mark. Undefined after timeout.
   */
  waitPeer(current: () => PeerState | undefined, pred: (s: PeerState) => boolean, timeout: number, since = -1): Promise<PeerState | undefined> {
    const now = current();
    if (now && this.#states > since && pred(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (s: PeerState | undefined) => {
        this.#watchers.delete(watcher);
        timer.cancel();
        resolve(s);
      };
      const watcher = (s: PeerState) => {
        if (pred(s)) done(s);
      };
      const timer = this.#clock.setTimeout(() => done(undefined), timeout);
      this.#watchers.add(watcher);
    });
  }

  /** The link went down: every pending request fails with the reason. */
  linkDown(reason: string): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.cancel();
      p.reject(new TandemError("E_PAIR_REQUEST", `the pair link went down: ${reason}`));
    }
  }
}
