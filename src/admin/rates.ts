// Per-second rates from ever-growing counters, over a sliding window of samples.

/** One sample of a counter. */
interface Sample {
  at: number;
  value: number;
}

/**
 * Turns totals (sessions, errors) into rates: each observe() records a sample, and the rate is
 * the growth since the oldest sample inside the window, per second. A counter that went down
 * (its server was replaced by a reload) starts over. Keys not observed for a while are dropped.
 */
export class RateMeter {
  readonly window: number;
  #samples = new Map<string, Sample[]>();

  /** window: how far back rates look, ms (haproxy's "rate" looks one second back; 10 s is steadier). */
  constructor(window = 10_000) {
    this.window = window;
  }

  /** Records value for key at `at` (monotonic ms) and returns the rate per second (0 until 1 s of history). */
  observe(key: string, value: number, at: number): number {
    let list = this.#samples.get(key);
    if (!list) this.#samples.set(key, (list = []));
    const last = list.at(-1);
    if (last && value < last.value) list.length = 0;
    if (!last || at > last.at) list.push({ at, value });
    // Keep one sample at or before the window start, so the rate spans the whole window.
    while (list.length > 2 && list[1].at <= at - this.window) list.shift();
    const first = list[0];
    const span = at - first.at;
    return span >= 1000 ? ((value - first.value) * 1000) / span : 0;
  }

  /** Forgets keys whose newest sample is older than the window (removed servers). */
  prune(now: number): void {
    for (const [key, list] of this.#samples) {
      if ((list.at(-1)?.at ?? 0) < now - 2 * this.window) this.#samples.delete(key);
    }
  }
}
