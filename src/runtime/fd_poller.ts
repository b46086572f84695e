// One epoll instance for every socket of the fd data path, watched by a single uv_poll on Node's
// own event loop: libuv wakes us when any of our sockets is ready, and one epoll_wait(2) then
// hands over all of them.

import { ERRNO } from "./errno.ts";
import { SYS } from "./fd_sys.ts";
import type { FdSys } from "./fd_sys.ts";

/** What the poller calls when its fd is ready. */
export interface PollTarget {
  /** Given by add(); an event carrying another one is stale (the fd number was reused since). */
  pollGen: number;
  /** events: the EPOLL* bits. May throw: the error is rethrown after the batch, as net's would be. */
  onPoll(events: number): void;
}

/** Events per epoll_wait(2). */
const BATCH = 256;
/** epoll_wait calls per wake-up before handing the loop back (libuv wakes us again if more are ready). */
const ROUNDS = 8;
// struct epoll_event is packed on x86_64 (events u32, data u64: 12 bytes) and padded elsewhere (16),
// read and written as 32-bit words: events, then data = fd (low word) and generation (high word).
const WORDS = process.arch === "x64" ? 3 : 4;
const DATA = process.arch === "x64" ? 1 : 2;

/**
 * The poller. Everything native it owns is allocated here once and lives as long as the process:
 * the uv_poll_t (in a Buffer off the V8 heap, never closed, so never freed under libuv's feet), the
 * event array and the epoll_event used to register. Sockets own no native memory at all: a file
 * descriptor and a generation number are all epoll knows of them.
 */
export class FdPoller {
  readonly #sys: FdSys;
  readonly #epfd: number;
  /** Targets by fd number. */
  readonly #targets: (PollTarget | undefined)[] = [];
  readonly #events = new Uint32Array(new ArrayBuffer(BATCH * WORDS * 4));
  readonly #eventsAt: bigint;
  readonly #event = new Uint32Array(new ArrayBuffer(16));
  readonly #eventAt: bigint;
  readonly #handle: Buffer;
  readonly #handleAt: bigint;
  #gen = 0;
  #count = 0;
  #scheduled = false;
  #inBatch = false;
  #now = 0;

  /** Throws Error when epoll or the uv_poll cannot be set up. */
  constructor(sys: FdSys) {
    this.#sys = sys;
    this.#epfd = sys.epollCreate1(SYS.EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new Error(`epoll_create1 failed: errno ${sys.errno()}`);
    this.#eventsAt = sys.pointer(this.#events);
    this.#eventAt = sys.pointer(this.#event);
    this.#handle = Buffer.from(new ArrayBuffer(Math.max(sys.uvHandleSize(SYS.UV_POLL), 256)));
    this.#handleAt = sys.pointer(this.#handle);
    const cb = sys.pollCallback(() => {
      // Called by libuv from its poll phase, outside any Node callback scope: nothing may throw
      // here, and microtasks would not run after it. The batch runs as an immediate instead,
      // right after this poll phase, with Node's usual error and microtask handling.
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(this.#run);
    });
    const init = sys.uvPollInit(sys.loop(), this.#handleAt, this.#epfd);
    if (init !== 0) throw new Error(`uv_poll_init failed: ${init}`);
    const start = sys.uvPollStart(this.#handleAt, SYS.UV_READABLE, cb);
    if (start !== 0) throw new Error(`uv_poll_start failed: ${start}`);
    // Like a net handle, the poller keeps the process alive only while it watches something.
    sys.uvUnref(this.#handleAt);
  }

  /** performance.now() of the current batch (one clock read per batch), or read now outside one. */
  now(): number {
    return this.#inBatch ? this.#now : performance.now();
  }

  /**
   * Watches fd for events (EPOLL* bits, EPOLLET for edge-triggered) and calls target.onPoll.
   * Returns 0, or the errno of epoll_ctl.
   */
  add(fd: number, target: PollTarget, events: number): number {
    const gen = this.#gen = (this.#gen + 1) >>> 0;
    target.pollGen = gen;
    if (this.#ctl(SYS.EPOLL_CTL_ADD, fd, events, gen) !== 0) return this.#sys.errno();
    this.#targets[fd] = target;
    if (this.#count++ === 0) this.#sys.uvRef(this.#handleAt);
    return 0;
  }

  /** Changes the events watched on fd (a listener stopping and starting to accept). Returns 0 or errno. */
  modify(fd: number, target: PollTarget, events: number): number {
    return this.#ctl(SYS.EPOLL_CTL_MOD, fd, events, target.pollGen) === 0 ? 0 : this.#sys.errno();
  }

  /**
   * Stops delivering fd's events; call it just before close(fd), which takes the fd out of the
   * epoll set. remove: also EPOLL_CTL_DEL, for a level-triggered fd that a forked child might
   * still hold open (its events would otherwise keep coming, ignored, until the child closes it).
   */
  forget(fd: number, target: PollTarget, remove = false): void {
    if (this.#targets[fd] !== target) return;
    this.#targets[fd] = undefined;
    target.pollGen = 0;
    if (remove) this.#ctl(SYS.EPOLL_CTL_DEL, fd, 0, 0);
    if (--this.#count === 0) this.#sys.uvUnref(this.#handleAt);
  }

  /** Sockets watched now. */
  get watched(): number {
    return this.#count;
  }

  #ctl(op: number, fd: number, events: number, gen: number): number {
    const ev = this.#event;
    ev[0] = events;
    ev[DATA] = fd;
    ev[DATA + 1] = gen;
    return this.#sys.epollCtl(this.#epfd, op, fd, this.#eventAt);
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    this.#inBatch = true;
    this.#now = performance.now();
    const sys = this.#sys;
    const ev = this.#events;
    const targets = this.#targets;
    let failure: unknown = undefined;
    let failed = false;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const n = sys.epollWait(this.#epfd, this.#eventsAt, BATCH, 0);
        if (n < 0) {
          if (sys.errno() === ERRNO.EINTR) continue;
          break;
        }
        for (let i = 0, at = 0; i < n; i++, at += WORDS) {
          const target = targets[ev[at + DATA]];
          if (target === undefined || target.pollGen !== ev[at + DATA + 1]) continue;
          try {
            target.onPoll(ev[at]);
          } catch (err) {
            // Every other socket of the batch still gets its event (edge-triggered: one that
            // missed it would wait forever); the first error is thrown after them.
            if (!failed) [failed, failure] = [true, err];
          }
        }
        if (n < BATCH) break;
      }
    } finally {
      this.#inBatch = false;
    }
    if (failed) throw failure;
  };
}

let shared: FdPoller | undefined;

/** The poller of this thread's event loop, made on first use. Throws Error when it cannot be. */
export function fdPoller(sys: FdSys): FdPoller {
  return (shared ??= new FdPoller(sys));
}
