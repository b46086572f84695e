// Time, injected: domain code reads a Clock so tests can advance a fake one instead of sleeping.

/** A cancellable timer handle. */
export interface TimerHandle {
  cancel(): void;
}

/** Monotonic time for deadlines, wall time for humans, and timers. */
export interface Clock {
  /** Monotonic milliseconds (never jumps back). */
  now(): number;
  /** Wall-clock milliseconds since the epoch. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: performance.now() for intervals, Date.now() for wall time, ordinary (ref'd) timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock for tests: time moves only when advance() is called; due timers run in order. */
export class FakeClock implements Clock {
  #now: number;
  #wallOffset: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void; seq: number }>();

  constructor(start = 0, wallStart = Date.UTC(2026, 0, 1)) {
    this.#now = start;
    this.#wallOffset = wallStart - start;
  }
  now(): number {
    return this.#now;
  }
  wallNow(): number {
    return this.#now + this.#wallOffset;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn, seq: id });
    return { cancel: () => this.#timers.delete(id) };
  }
  /** Moves time forward by ms, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; seq: number }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at > target) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = target;
  }
  /** Number of pending timers (for tests). */
  get pending(): number {
    return this.#timers.size;
  }
}
