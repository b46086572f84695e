// Durations, sizes, binds and CIDRs as the config writes them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../src/core/duration.ts";
import { parseSize } from "../../src/core/size.ts";
import { cidrContains, parseBind, parseCidr, parseHostPort } from "../../src/core/address.ts";

test("durations: bare numbers are milliseconds, units combine", () => {
  const cases: [unknown, number | undefined][] = [
    [4000, 4000], ["4000", 4000], ["5s", 5000], ["30m", 1_800_000], ["1h", 3_600_000], ["1h30m", 5_400_000],
    ["250ms", 250], ["2d", 172_800_000], ["1.5s", 1500], ["", undefined], ["5 s", undefined], ["5x", undefined],
    [-1, undefined], ["s", undefined], [null, undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseDuration(input), want, String(input));
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(250), "250ms");
});

test("sizes: k, m, g are powers of 1024", () => {
  assert.equal(parseSize("10240k"), 10_485_760);
  assert.equal(parseSize("64k"), 65536);
  assert.equal(parseSize("1m"), 1_048_576);
  assert.equal(parseSize(1000), 1000);
  assert.equal(parseSize("1.5k"), undefined);
  assert.equal(parseSize("lots"), undefined);
});

test("binds: every form the config allows", () => {
  assert.deepEqual(parseBind("192.168.8.248:80"), { host: "192.168.8.248", ports: [80], text: "192.168.8.248:80" });
  assert.deepEqual(parseBind(":80").host, "0.0.0.0");
  assert.deepEqual(parseBind("192.168.8.248:110,135").ports, [110, 135]);
  assert.deepEqual(parseBind("192.168.8.248:6001-6004").ports, [6001, 6002, 6003, 6004]);
  assert.deepEqual(parseBind("[::1]:80,81"), { host: "::1", ports: [80, 81], text: "[::1]:80,81" });
  assert.throws(() => parseBind("192.168.8.248"), /expected "address:port"/);
  assert.throws(() => parseBind("host:80"), /not an IP address/);
  assert.throws(() => parseBind("1.2.3.4:0"), /out of range/);
  assert.throws(() => parseBind("1.2.3.4:1-65535"), /larger than 4096 ports/);
  assert.throws(() => parseBind("[::1:80"), /missing "]"/);
});

test("CIDRs and host:port", () => {
  assert.deepEqual(parseCidr("192.168.8.248/24"), { address: "192.168.8.248", prefix: 24, family: 4 });
  assert.deepEqual(parseCidr("10.0.0.1"), { address: "10.0.0.1", prefix: 32, family: 4 });
  assert.throws(() => parseCidr("10.0.0.1/33"), /must be 0\.\.32/);
  assert.ok(cidrContains(parseCidr("10.0.0.0/8"), "10.1.2.3"));
  assert.ok(cidrContains(parseCidr("10.0.0.0/8"), "::ffff:10.1.2.3"));
  assert.ok(!cidrContains(parseCidr("10.0.0.0/8"), "11.0.0.1"));
  assert.ok(cidrContains(parseCidr("2001:db8::/32"), "2001:db8::1"));
  assert.ok(!cidrContains(parseCidr("2001:db8::/32"), "2001:db9::1"));
  assert.deepEqual(parseHostPort("127.0.0.1:25"), { host: "127.0.0.1", port: 25 });
  assert.throws(() => parseHostPort(":25"), /missing address/);
});
