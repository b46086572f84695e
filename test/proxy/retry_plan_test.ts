// RetryPlan: haproxy's retries and redispatch, the one plan both modes follow.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RetryPlan } from "../../src/proxy/retry_plan.ts";
import { Server } from "../../src/proxy/server.ts";
import { server } from "./fixtures.ts";

const a = new Server(server("a", 1), { up: true, health: 1 });

/** Runs attempts that all fail on `a` and returns where each retry was sent. */
function failAll(retries: number, redispatch: boolean): string[] {
  const plan = new RetryPlan(retries, redispatch);
  const route: string[] = [];
  for (;;) {
    plan.begin();
    if (!plan.canRetry) break;
    plan.failed(a);
    route.push(plan.prefer === a ? "same" : plan.exclude?.has(a) ? "elsewhere" : "?");
  }
  return route;
}

describe("RetryPlan", () => {
  it("retries N means N more attempts after the first, on the same server", () => {
    assert.deepEqual(failAll(3, false), ["same", "same", "same"]);
    assert.deepEqual(failAll(0, false), []);
  });

  it("redispatch moves the last retry to another server", () => {
    assert.deepEqual(failAll(3, true), ["same", "same", "elsewhere"]);
    assert.deepEqual(failAll(1, true), ["elsewhere"]);
  });

  it("reset starts a new request with the backend's current settings", () => {
    const plan = new RetryPlan(1, true);
    plan.begin();
    plan.failed(a);
    plan.reset(2, false);
    assert.equal(plan.attempts, 0);
    assert.equal(plan.prefer, undefined);
    assert.equal(plan.exclude, undefined);
    assert.equal(plan.retries, 2);
    assert.equal(plan.redispatch, false);
  });
});
