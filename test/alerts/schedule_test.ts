// Schedules: parsing, next-run computation (cron, seconds, nicknames, time zones, @every), and the timer.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Clock, FakeClock } from "../../src/core/clock.ts";
import { describeSchedule, JobTimer, MAX_TIMER_MS, nextRunAfter, parseSchedule } from "../../src/alerts/schedule.ts";

const T0 = Date.UTC(2026, 0, 1, 0, 0, 30); // 2026-01-01 00:00:30 UTC, a Thursday
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

describe("schedule", () => {
  it("computes the next run of 5-field, 6-field and nickname schedules", () => {
    assert.equal(iso(nextRunAfter(parseSchedule("* * * * *", "UTC"), T0)), "2026-01-01T00:01:00.000Z");
    assert.equal(iso(nextRunAfter(parseSchedule("*/10 * * * * *", "UTC"), T0)), "2026-01-01T00:00:40.000Z");
    assert.equal(iso(nextRunAfter(parseSchedule("*/15 9-17 * * mon-fri", "UTC"), T0)), "2026-01-01T09:00:00.000Z");
    assert.equal(iso(nextRunAfter(parseSchedule("@hourly", "UTC"), T0)), "2026-01-01T01:00:00.000Z");
    assert.equal(iso(nextRunAfter(parseSchedule("@daily", "UTC"), T0)), "2026-01-02T00:00:00.000Z");
    assert.equal(iso(nextRunAfter(parseSchedule("@weekly", "UTC"), T0)), "2026-01-04T00:00:00.000Z");
  });

  it("honours the time zone", () => {
    // 03:00 in Shanghai (UTC+8) is 19:00 UTC the day before.
    assert.equal(iso(nextRunAfter(parseSchedule("0 3 * * *", "Asia/Shanghai"), T0)), "2026-01-01T19:00:00.000Z");
    assert.equal(describeSchedule(parseSchedule("0 3 * * *", "Asia/Shanghai")), "cron 0 3 * * * (Asia/Shanghai)");
  });

  it("parses @every as an interval", () => {
    const s = parseSchedule("@every 30s");
    assert.deepEqual(s, { kind: "interval", every: 30_000, text: "@every 30s" });
    assert.equal(nextRunAfter(s, 1000), 31_000);
    assert.equal(describeSchedule(parseSchedule("@every 1m30s")), "every 1m30s");
  });

  it("rejects bad schedules and time zones with a reason", () => {
    assert.throws(() => parseSchedule("* * * *"), { code: "E_SCHEDULE", message: /five, six, or seven|5 or 6/ });
    assert.throws(() => parseSchedule("* * * * * * *"), { code: "E_SCHEDULE" });
    assert.throws(() => parseSchedule("61 * * * *"), { code: "E_SCHEDULE" });
    assert.throws(() => parseSchedule("@every soon"), { code: "E_SCHEDULE", message: /not a duration/ });
    assert.throws(() => parseSchedule("@every 0s"), { code: "E_SCHEDULE", message: /at least/ });
    assert.throws(() => parseSchedule("* * * * *", "Mars/Base"), { code: "E_SCHEDULE", message: /time zone "Mars\/Base"/ });
  });

  it("runs a cron job on the injected clock, each minute, with no timer longer than 30 s", async () => {
    const clock = new FakeClock(0, T0);
    const delays: number[] = [];
    const spy: Clock = { now: () => clock.now(), wallNow: () => clock.wallNow(), setTimeout: (fn, ms) => (delays.push(ms), clock.setTimeout(fn, ms)) };
    const runs: string[] = [];
    const job = new JobTimer(parseSchedule("* * * * *", "UTC"), spy, async () => void runs.push(new Date(clock.wallNow()).toISOString()));
    job.start();
    assert.equal(iso(job.nextRunAt()), "2026-01-01T00:01:00.000Z");
    clock.advance(29_999);
    assert.deepEqual(runs, []);
    clock.advance(1);
    assert.deepEqual(runs, ["2026-01-01T00:01:00.000Z"]);
    // Runs are async: let each finish before the next one falls due (else it would be skipped as busy).
    await new Promise((r) => setImmediate(r));
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    clock.advance(60_000);
    assert.deepEqual(runs, ["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z", "2026-01-01T00:03:00.000Z"]);
    assert.ok(Math.max(...delays) <= MAX_TIMER_MS);
    await job.stop();
    clock.advance(600_000);
    assert.equal(runs.length, 3);
  });

  it("never overlaps: a run due while the previous one is busy is skipped", async () => {
    const clock = new FakeClock();
    let release: () => void = () => {};
    let runs = 0;
    const skipped: number[] = [];
    const job = new JobTimer(parseSchedule("@every 10s"), clock, () => {
      runs++;
      return new Promise<void>((r) => (release = r));
    }, (due) => skipped.push(due));
    job.start();
    clock.advance(10_000);
    assert.equal(runs, 1);
    clock.advance(20_000); // due at 20 s and 30 s while run 1 is still busy
    assert.equal(runs, 1);
    assert.deepEqual(skipped, [20_000, 30_000]);
    release();
    await new Promise((r) => setImmediate(r));
    clock.advance(10_000);
    assert.equal(runs, 2);
    assert.equal(job.skipped, 2);
    release();
    await job.stop();
  });

  it("an interval schedule longer than 30 s is reached through several short timers", () => {
    const clock = new FakeClock();
    let runs = 0;
    const job = new JobTimer(parseSchedule("@every 2m"), clock, async () => void runs++);
    job.start();
    clock.advance(119_999);
    assert.equal(runs, 0);
    assert.equal(clock.pending, 1);
    clock.advance(1);
    assert.equal(runs, 1);
    void job.stop();
  });
});
