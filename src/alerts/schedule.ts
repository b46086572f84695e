// Job schedules: cron (5/6 fields, @hourly…) via croner, `@every <duration>`, run on the injected Clock.

import { Cron } from "croner";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { TandemError } from "../core/errors.ts";

/** A parsed schedule. */
export type Schedule =
  | { kind: "interval"; every: number; text: string }
  | { kind: "cron"; cron: Cron; text: string; timezone?: string };

/** Longest single timer; the scheduler wakes at least this often and re-reads the wall clock. */
export const MAX_TIMER_MS = 30_000;
/** A schedule that cannot be parsed: code E_SCHEDULE; `field` is what to point at, `hint` how to fix it. */
export class ScheduleError extends TandemError {
  readonly field: "schedule" | "timezone";
  readonly hint: string | undefined;
  constructor(field: "schedule" | "timezone", message: string, hint?: string, options?: { cause?: unknown }) {
    super("E_SCHEDULE", message, options);
    this.name = "ScheduleError";
    this.field = field;
    this.hint = hint;
  }
}

/**
 * Parses "*\/5 * * * *", "0 *\/10 * * * *" (with seconds), "@hourly", "@daily", "@every 30s".
 * An `@every` interval must be at least minInterval ms (the alerts section sets the operators'
 * minimum; any positive interval by default). Throws ScheduleError saying what is wrong.
 */
export function parseSchedule(text: string, timezone?: string, minInterval = 1): Schedule {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    } catch {
      throw new ScheduleError("timezone", `Invalid time zone "${timezone}": not a time zone`, 'write an IANA name such as "Europe/Berlin" or "UTC"');
    }
  }
  const trimmed = text.trim();
  const every = /^@every\s+(.+)$/i.exec(trimmed);
  if (every) {
    const ms = parseDuration(every[1]);
    const hint = `write "@every 30s" (at least ${formatDuration(minInterval)})`;
    if (ms === undefined) throw new ScheduleError("schedule", `Invalid schedule "${text}": "${every[1]}" is not a duration`, hint);
    if (ms < minInterval) throw new ScheduleError("schedule", `Invalid schedule "${text}": the interval must be at least ${formatDuration(minInterval)}`, hint);
    return { kind: "interval", every: ms, text: trimmed };
  }
  const fields = trimmed.split(/\s+/);
  if (!trimmed.startsWith("@") && (fields.length < 5 || fields.length > 6)) {
    throw new ScheduleError("schedule", `Invalid schedule "${text}": it has ${fields.length} fields; cron needs 5 or 6 (minute hour day month weekday, with seconds first when 6)`, 'every minute is "* * * * *"');
  }
  try {
    const cron = new Cron(trimmed, { paused: true, mode: "5-or-6-parts", ...(timezone ? { timezone } : {}) });
    if (cron.nextRun() === null) throw new Error("it never fires");
    return { kind: "cron", cron, text: trimmed, timezone };
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, "");
    throw new ScheduleError("schedule", `Invalid schedule "${text}": ${why}`, 'cron fields are minute hour day month weekday, or "@hourly", "@daily", "@every 30s"', { cause: err });
  }
}

/** Wall-clock time of the first run strictly after `afterWall` (interval: afterWall + every). */
export function nextRunAfter(schedule: Schedule, afterWall: number): number | undefined {
  if (schedule.kind === "interval") return afterWall + schedule.every;
  const next = schedule.cron.nextRun(new Date(afterWall));
  return next ? next.getTime() : undefined;
}

/** Human description: "every 30s" or "cron 0 3 * * * (Asia/Shanghai)". */
export function describeSchedule(schedule: Schedule): string {
  if (schedule.kind === "interval") return `every ${formatDuration(schedule.every)}`;
  return `cron ${schedule.text}${schedule.timezone ? ` (${schedule.timezone})` : ""}`;
}

/**
 * Runs a job on a schedule, on the injected clock. Never overlaps: a run that falls due while the
 * previous one is still busy is skipped and reported (croner's `protect` semantics). No single
 * timer is longer than MAX_TIMER_MS; on each wake the wall clock is re-read, so a clock jump or a
 * suspended host does not leave the job waiting for a stale deadline.
 */
export class JobTimer {
  #schedule: Schedule;
  #clock: Clock;
  #run: () => Promise<void>;
  #onSkip: (dueAt: number) => void;
  #timer: TimerHandle | undefined;
  #busy: Promise<void> | undefined;
  #stopped = true;
  /** Cron: wall-clock due time. Interval: monotonic due time. */
  #due = 0;
  #runs = 0;
  #skipped = 0;

  constructor(schedule: Schedule, clock: Clock, run: () => Promise<void>, onSkip: (dueAt: number) => void = () => {}) {
    this.#schedule = schedule;
    this.#clock = clock;
    this.#run = run;
    this.#onSkip = onSkip;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const s = this.#schedule;
    this.#due = s.kind === "interval" ? this.#clock.now() + s.every : (nextRunAfter(s, this.#clock.wallNow()) ?? Infinity);
    this.#arm();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#busy;
  }

  /** Wall-clock time of the next run, if any. */
  nextRunAt(): number | undefined {
    if (this.#stopped || this.#due === Infinity) return undefined;
    return this.#schedule.kind === "interval" ? this.#clock.wallNow() + (this.#due - this.#clock.now()) : this.#due;
  }

  get runs(): number {
    return this.#runs;
  }
  get skipped(): number {
    return this.#skipped;
  }

  #current(): number {
    return this.#schedule.kind === "interval" ? this.#clock.now() : this.#clock.wallNow();
  }

  #arm(): void {
    if (this.#stopped || this.#due === Infinity) return;
    const wait = Math.min(Math.max(this.#due - this.#current(), 0), MAX_TIMER_MS);
    this.#timer = this.#clock.setTimeout(() => this.#wake(), wait);
  }

  #wake(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const s = this.#schedule;
    const now = this.#current();
    if (now >= this.#due) {
      const dueAt = this.#due;
      this.#fire(dueAt);
      // Interval runs keep their cadence; after a long stall, start again from now instead of bursting.
      this.#due = s.kind === "interval" ? (dueAt + s.every > now ? dueAt + s.every : now + s.every) : (nextRunAfter(s, Math.max(now, dueAt)) ?? Infinity);
    } else if (s.kind === "cron") {
      // The wall clock went back: a nearer run may exist now.
      const nearer = nextRunAfter(s, now);
      if (nearer !== undefined && nearer < this.#due) this.#due = nearer;
    }
    this.#arm();
  }

  #fire(dueAt: number): void {
    if (this.#busy) {
      this.#skipped++;
      this.#onSkip(dueAt);
      return;
    }
    this.#runs++;
    this.#busy = this.#run()
      .catch(() => {})
      .finally(() => {
        this.#busy = undefined;
      });
  }
}
