// Validation of alert schedules: cron (5 or 6 fields, via croner), nicknames, "@every 30s".

import { Cron } from "croner";
import { parseDuration } from "../core/duration.ts";

/** "@every 30s" → 30000; undefined when the text is not of that form. */
export function everyInterval(schedule: string): number | undefined {
  const m = /^@every\s+(\S+)$/.exec(schedule.trim());
  return m ? parseDuration(m[1]) : undefined;
}

/** Returns a problem with the schedule or time zone, or undefined when both are fine. */
export function validateSchedule(schedule: string, timezone?: string): { field: "schedule" | "timezone"; message: string; hint?: string } | undefined {
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: timezone });
    } catch {
      return { field: "timezone", message: `"${timezone}" is not a time zone`, hint: 'write an IANA name such as "Europe/Berlin" or "UTC"' };
    }
  }
  if (/^@every\b/.test(schedule.trim())) {
    const ms = everyInterval(schedule);
    if (ms === undefined || ms < 1000) return { field: "schedule", message: `"${schedule}" is not a valid interval`, hint: 'write "@every 30s" (at least 1s)' };
    return undefined;
  }
  const fields = schedule.trim().split(/\s+/);
  if (!schedule.trim().startsWith("@") && (fields.length < 5 || fields.length > 6)) {
    return { field: "schedule", message: `"${schedule}" has ${fields.length} fields; cron needs 5 (minute hour day month weekday) or 6 (with seconds first)`, hint: 'every minute is "* * * * *"' };
  }
  try {
    new Cron(schedule, { paused: true, timezone });
  } catch (err) {
    return { field: "schedule", message: `"${schedule}" is not a valid schedule: ${(err as Error).message.replace(/^CronPattern: /, "")}`, hint: 'cron fields are minute hour day month weekday, or "@hourly", "@every 30s"' };
  }
  return undefined;
}
