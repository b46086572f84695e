// One deadline that moves often (every request), on one timer that is only re-armed when needed.

import type { Clock, TimerHandle } from "./clock.ts";

/**
 * Setting a deadline later than the armed timer costs nothing: when the timer fires early it
 * re-arms for the current deadline. Setting one earlier re-arms at once. So a keep-alive
 * connection that moves its deadline on every request pays one timer per deadline period, not
 * one per request.
 */
export class Deadline {
  /** The current deadline (clock ms); Infinity: none. */
  at = Infinity;
  #timer: TimerHandle | undefined = undefined;
  #timerAt = Infinity;
  readonly #clock: Clock;
  readonly #fire: () => void;
  readonly #onTimer = () => this.#fired();

  /** fire: called once the clock passes the deadline. */
  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Sets the deadline (Infinity: none, the timer stays until it fires and finds nothing due). */
  set(at: number): void {
    this.at = at;
    if (at === Infinity || (this.#timer !== undefined && this.#timerAt <= at)) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(0, at - this.#clock.now()));
  }

  /** Stops for good (until the next set). */
  cancel(): void {
    this.at = Infinity;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #fired(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.at === Infinity) return;
    if (this.#clock.now() + 1 < this.at) return this.set(this.at);
    this.#fire();
  }
}
