import { test } from "node:test";
import assert from "node:assert/strict";
import { ago, bytes, count, duration, rate } from "../../src/ui/format.ts";

test("bytes, durations, rates and counts read well", () => {
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(1536), "1.5 KiB");
  assert.equal(bytes(50 * 1024 * 1024), "50 MiB");
  assert.equal(duration(42), "42s");
  assert.equal(duration(303), "5m 3s");
  assert.equal(duration(7800), "2h 10m");
  assert.equal(duration(3 * 86400 + 4 * 3600), "3d 4h");
  assert.equal(ago(100_000, 58_000), "42s ago");
  assert.equal(ago(100_000, undefined), "never");
  assert.equal(ago(Date.parse("2026-01-01T00:01:00Z"), "2026-01-01T00:00:00Z"), "1m 0s ago");
  assert.equal(rate(2.5), "2.5");
  assert.equal(rate(3), "3");
  assert.equal(rate(123.4), "123");
  assert.equal(count(1234567), "1\u202f234\u202f567");
});
