// Access-log lines: text (haproxy-like) and JSON.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../../src/core/log.ts";
import { writeAccess } from "../../../src/proxy/http/access_log.ts";
import type { AccessRecord } from "../../../src/proxy/http/access_log.ts";

const REC: AccessRecord = {
  client: "10.0.0.1:5555", frontend: "web", backend: "api", server: "a1", status: 200, bytes: 1234,
  method: "GET", target: "/x?y=1", version: "HTTP/1.1", tq: 1.4, tw: 0, tc: -1, tr: 7.6, tt: 9.2, termination: "--", retries: 1,
};

describe("access log", () => {
  it("text", () => {
    const lines: string[] = [];
    writeAccess(createLogger("t", { write: (l) => lines.push(l) }), "text", REC);
    assert.match(lines[0], / INFO {2}\[t\] 10\.0\.0\.1:5555 web api\/a1 200 1234 1\/0\/-1\/8\/9 -- 1 "GET \/x\?y=1 HTTP\/1\.1"$/);
  });
  it("json", () => {
    const lines: string[] = [];
    writeAccess(createLogger("t", { write: (l) => lines.push(l), format: "json" }), "json", REC);
    const outer = JSON.parse(lines[0]);
    const rec = JSON.parse(outer.msg);
    assert.deepEqual({ ...rec }, { ...REC, tq: 1, tc: -1, tr: 8, tt: 9 });
  });
});
