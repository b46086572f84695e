// crontab parser: schedules, nicknames, variables, the system crontab's user column.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCrontab } from "../../src/import/crontab.ts";

test("jobs keep their schedule, command spacing, comment and line", () => {
  const c = parseCrontab("MAILTO=\"ops@x\"\n# watch the VIP\n*/5  * * * *   /a/b.sh  --x  'y z' >/dev/null 2>&1\n\n@hourly /c\n", "cron");
  assert.deepEqual(c.env, { MAILTO: { value: "ops@x", line: 1 } });
  assert.deepEqual(c.jobs, [
    { schedule: "*/5 * * * *", command: "/a/b.sh  --x  'y z' >/dev/null 2>&1", user: undefined, line: 3, comment: "watch the VIP" },
    { schedule: "@hourly", command: "/c", user: undefined, line: 5, comment: undefined },
  ]);
});

test("a system crontab's user column is recognised", () => {
  assert.equal(parseCrontab("0 1 * * * root /usr/bin/x\n", "crontab").jobs[0].user, "root");
  assert.equal(parseCrontab("0 1 * * * root /usr/bin/x\n", "crontab").jobs[0].command, "/usr/bin/x");
});

test("lines cron would reject are problems", () => {
  assert.deepEqual(parseCrontab("* * * /x\n@sometimes /y\n", "c").problems, [
    { line: 1, message: "a job needs 5 time fields and a command; this line has 4 fields" },
    { line: 2, message: '"@sometimes" is not a cron nickname' },
  ]);
});
