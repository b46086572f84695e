// Idle timeouts for many sockets with one timer per duration (node's own timer lists, narrowed to
// what the fd data path needs): activity is a number written on the socket, not a timer moved.

/** A socket with an idle timeout: the fields are the timer lists' own, written nowhere else. */
export interface TimedItem {
  /** Last read or write (performance.now() ms); the socket writes it on activity. */
  lastActive: number;
  /** Duration of the list it is in (0: in none). */
  timerMs: number;
  /** Its position's key in the list (lastActive when it was put there). */
  timerKey: number;
  timerPrev: TimedItem | undefined;
  timerNext: TimedItem | undefined;
  /** Idle for timerMs: called once, after the item left its list. */
  onIdle(): void;
}

/**
 * Items ordered by key, one unref'd timer for the head. Activity only moves lastActive; when the
 * head's time comes, an item that was active since goes back in at its lastActive (near the tail),
 * so a busy socket costs no timer work per read or write, and none fires early: every item's real
 * deadline (lastActive + ms) is at or after its key + ms.
 */
class TimerList {
  readonly ms: number;
  head: TimedItem | undefined = undefined;
  tail: TimedItem | undefined = undefined;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #at = Infinity;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** Inserts item by key, searching from the tail (keys are mostly recent). */
  insert(item: TimedItem, key: number): void {
    item.timerMs = this.ms;
    item.timerKey = key;
    let after = this.tail;
    while (after !== undefined && after.timerKey > key) after = after.timerPrev;
    item.timerPrev = after;
    item.timerNext = after === undefined ? this.head : after.timerNext;
    if (item.timerNext !== undefined) item.timerNext.timerPrev = item;
    else this.tail = item;
    if (after !== undefined) after.timerNext = item;
    else this.head = item;
    this.#schedule();
  }

  unlink(item: TimedItem): void {
    if (item.timerPrev !== undefined) item.timerPrev.timerNext = item.timerNext;
    else this.head = item.timerNext;
    if (item.timerNext !== undefined) item.timerNext.timerPrev = item.timerPrev;
    else this.tail = item.timerPrev;
    item.timerPrev = item.timerNext = undefined;
    item.timerMs = 0;
  }

  #schedule(): void {
    const head = this.head;
    if (head === undefined) return;
    const at = head.timerKey + this.ms;
    if (this.#timer !== undefined && at >= this.#at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#at = Infinity;
    const now = performance.now();
    const ms = this.ms;
    let failure: unknown = undefined;
    let failed = false;
    for (let item = this.head; item !== undefined && item.timerKey + ms <= now; item = this.head) {
      this.unlink(item);
      if (item.lastActive + ms > now) {
        this.insert(item, item.lastActive);
        continue;
      }
      try {
        item.onIdle();
      } catch (err) {
        if (!failed) [failed, failure] = [true, err];
      }
    }
    this.#schedule();
    if (failed) throw failure;
  };
}

/** The timer lists by duration. */
export class IdleTimers {
  readonly #lists = new Map<number, TimerList>();

  /** (Re)starts item's idle timer: ms from now (and from every later activity). */
  arm(item: TimedItem, ms: number, now: number): void {
    if (item.timerMs !== 0) this.disarm(item);
    item.lastActive = now;
    let list = this.#lists.get(ms);
    if (list === undefined) this.#lists.set(ms, (list = new TimerList(ms)));
    list.insert(item, now);
  }

  /** Stops item's timer (no-op when none runs). */
  disarm(item: TimedItem): void {
    if (item.timerMs === 0) return;
    this.#lists.get(item.timerMs)?.unlink(item);
  }
}

/** The timer lists of this thread. */
export const idleTimers = new IdleTimers();
