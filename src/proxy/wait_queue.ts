// A FIFO of waiters with O(1) push/shift and O(1) cancellation (lazy removal).

/** One waiter; `cancelled` entries are skipped when they reach the head. */
export interface Waiter<T> {
  readonly enqueuedAt: number;
  readonly value: T;
  cancelled: boolean;
}

/** FIFO queue backed by an array with a moving head, compacted when half of it is consumed. */
export class WaitQueue<T> {
  /** Consumed slots below #head are cleared: a waiter (and its socket) is not kept once it left. */
  #items: (Waiter<T> | undefined)[] = [];
  #head = 0;
  #live = 0;

  /** Number of waiters that are not cancelled. */
  get length(): number {
    return this.#live;
  }

  push(value: T, now: number): Waiter<T> {
    const w: Waiter<T> = { enqueuedAt: now, value, cancelled: false };
    this.#items.push(w);
    this.#live++;
    return w;
  }

  /** Cancels a waiter (it stays in the array until it reaches the head). */
  cancel(w: Waiter<T>): void {
    if (w.cancelled) return;
    w.cancelled = true;
    this.#live--;
  }

  /** The oldest live waiter without removing it. */
  peek(): Waiter<T> | undefined {
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.cancelled) items[this.#head++] = undefined;
    this.#compact();
    return this.#items[this.#head];
  }

  /** Removes and returns the oldest live waiter. */
  shift(): Waiter<T> | undefined {
    const w = this.peek();
    if (!w) return undefined;
    this.#items[this.#head++] = undefined;
    this.#live--;
    w.cancelled = true;
    this.#compact();
    return w;
  }

  /** The live waiters, oldest first, as a new array (nothing is removed). */
  values(): Waiter<T>[] {
    return this.#items.slice(this.#head).filter((w): w is Waiter<T> => w !== undefined && !w.cancelled);
  }

  /** Removes and returns every live waiter, oldest first. */
  drain(): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (let w = this.shift(); w; w = this.shift()) out.push(w);
    return out;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
