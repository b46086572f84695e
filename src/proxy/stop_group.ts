// The sessions of a frontend to tell when tandem stops, without a listener per session.

import { ItemSet } from "../core/item_set.ts";

/** What a session does when its frontend stops: finish the exchange in progress, close if idle. */
export interface Stoppable {
  onStopping(): void;
}

/**
 * One per frontend. Sessions join while they run and leave when they end; stop() tells every
 * member once. (An AbortSignal listener per session costs more, and removing one walks every
 * listener of the signal.)
 */
export class StopGroup {
  stopped = false;
  readonly #members = new ItemSet<Stoppable>();

  /** Joins the group (a group already stopped ignores it: its listeners are closed already). */
  add(member: Stoppable): void {
    if (this.stopped) return; // the frontend is closing: no new session is told
    this.#members.add(member);
  }

  delete(member: Stoppable): void {
    this.#members.delete(member);
  }

  /** Tells every member, once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const m of this.#members.values()) m.onStopping();
  }
}
