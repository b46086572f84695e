// Templates: placeholders, unknown names, subjects for follow-ups, time formatting.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventSubject, formatTime, jobSubject, render, unknownPlaceholders } from "../../src/alerts/template.ts";

describe("template", () => {
  it("replaces known placeholders and leaves unknown ones", () => {
    assert.equal(render("{host} {role} {state} {vip} {rule} {nope}", { host: "lb1", role: "master", state: "FAILED", vip: "192.168.8.248", rule: "vip-lost" }), "lb1 master FAILED 192.168.8.248 vip-lost {nope}");
    assert.equal(render("[{proxy}/{server}]", {}), "[/]");
    assert.deepEqual(unknownPlaceholders("{host} {hostname} {x}"), ["hostname", "x"]);
  });

  it("keeps a UTF-8 subject and marks follow-ups unless {state} is placed", () => {
    assert.equal(jobSubject("警告", "fail", {}), "警告");
    assert.equal(jobSubject("警告", "resolved", {}), "[RESOLVED] 警告");
    assert.equal(jobSubject("警告", "repeat", {}), "[STILL FAILING] 警告");
    assert.equal(jobSubject("{state}: {rule}", "resolved", { state: "RESOLVED", rule: "r" }), "RESOLVED: r");
    assert.equal(jobSubject(undefined, "fail", { rule: "r", state: "FAILED", host: "h" }), "[tandem] r FAILED on h");
    assert.equal(eventSubject(undefined, { event: "server_down", state: "DOWN", host: "h" }, 2), "[tandem] server_down DOWN on h (+2 more)");
  });

  it("formats time in a zone", () => {
    assert.equal(formatTime(Date.UTC(2026, 0, 1, 0, 0, 0), "Asia/Shanghai"), "2026-01-01 08:00:00 Asia/Shanghai");
    assert.equal(formatTime(Date.UTC(2026, 0, 1, 0, 0, 0), "UTC"), "2026-01-01 00:00:00 UTC");
  });
});
