// The http session's states as data: every request lifecycle walks the tables, nothing else does.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CLIENT_TRANSITIONS, clientStep, RESPONSE_TRANSITIONS, responseStep } from "../../../src/proxy/http/states.ts";
import type { ClientEvent, ClientState, ResponseEvent } from "../../../src/proxy/http/states.ts";

function walk(events: ClientEvent[], from: ClientState = "idle"): ClientState | undefined {
  let s: ClientState | undefined = from;
  for (const e of events) s = s === undefined ? undefined : clientStep(s, e);
  return s;
}

describe("http session states", () => {
  it("keep-alive requests with and without bodies go round idle → head → … → idle", () => {
    assert.equal(walk(["bytes", "head_complete", "response_done"]), "idle");
    assert.equal(walk(["bytes", "head_with_body", "body_complete", "response_done", "bytes", "head_complete", "response_done"]), "idle");
  });

  it("a WebSocket handshake ends in the tunnel, which only closes", () => {
    assert.equal(walk(["bytes", "head_complete", "switched"]), "tunnel");
    assert.equal(walk(["bytes", "head_complete", "switched", "bytes"]), undefined);
    assert.equal(walk(["bytes", "head_complete", "switched", "close"]), "closed");
  });

  it("every state can close, and closed stays closed", () => {
    for (const s of Object.keys(CLIENT_TRANSITIONS) as ClientState[]) assert.equal(clientStep(s, "close"), "closed", s);
    for (const e of ["bytes", "head_complete", "response_done", "switched"] as ClientEvent[]) assert.equal(clientStep("closed", e), undefined, e);
  });

  it("no response is done before the request head is complete", () => {
    assert.equal(walk(["bytes", "response_done"]), undefined);
    assert.equal(clientStep("idle", "response_done"), undefined);
    assert.equal(clientStep("head", "body_complete"), undefined);
  });

  it("the response side: sent → head (1xx stay) → body → none; any failure back to none", () => {
    const run = (events: ResponseEvent[]) => events.reduce<string | undefined>((s, e) => (s === undefined ? undefined : responseStep(s as "none", e)), "none");
    assert.equal(run(["sent", "final_head", "done"]), "none");
    assert.equal(run(["sent", "failed", "sent", "final_head", "done"]), "none", "a retry after a failed attempt");
    assert.equal(run(["sent", "done"]), "none", "101 switches from the head");
    assert.equal(run(["final_head"]), undefined, "no response before a request went out");
    for (const s of Object.keys(RESPONSE_TRANSITIONS) as ("none" | "head" | "body")[]) assert.equal(responseStep(s, "failed"), "none");
  });
});
