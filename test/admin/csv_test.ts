import { test } from "node:test";
import assert from "node:assert/strict";
import { CSV_COLUMNS, statsCsv } from "../../src/admin/csv.ts";
import { parseHaproxyCsv } from "../helpers/formats.ts";
import { sampleSnapshot } from "./fixtures.ts";

test("CSV has haproxy's header and one row per frontend, server and backend", () => {
  const rows = parseHaproxyCsv(statsCsv(sampleSnapshot()));
  assert.deepEqual(rows.map((r) => `${r.pxname}/${r.svname}/${r.type}`), ["web/FRONTEND/0", "web/s1/2", "web/s2/2", "web/BACKEND/1"]);
  assert.deepEqual(Object.keys(rows[0]), [...CSV_COLUMNS]);
  const s1 = rows[1];
  assert.equal(s1.status, "UP");
  assert.equal(s1.scur, "3");
  assert.equal(s1.smax, "7");
  assert.equal(s1.slim, "100");
  assert.equal(s1.bin, "4000");
  assert.equal(s1.bout, "80000");
  assert.equal(s1.chkfail, "2");
  assert.equal(s1.lastchg, "30");
  assert.equal(s1.check_status, "L7OK");
  assert.equal(s1.check_duration, "3");
  assert.equal(s1.act, "1");
  assert.equal(rows[2].bck, "1");
});

test("fields with commas and quotes are quoted per RFC 4180 and read back intact", () => {
  const text = statsCsv(sampleSnapshot());
  assert.match(text, /"HTTP status 503, ""busy"""/);
  const s2 = parseHaproxyCsv(text)[2];
  assert.equal(s2.check_desc, 'HTTP status 503, "busy"');
  assert.equal(s2.status, "DOWN");
});

test("a server without a check shows haproxy's 'no check'", () => {
  const snap = sampleSnapshot();
  snap.backends[0].servers[0].check = undefined;
  assert.equal(parseHaproxyCsv(statsCsv(snap))[1].status, "no check");
});
