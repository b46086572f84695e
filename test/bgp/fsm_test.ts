// Tests for the pure BGP session state machine: the OPEN exchange, timers, Adj-RIB-Out sync,
// errors answered with the NOTIFICATION RFC 4271 §6 names, and reconnection with back-off.

import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/core/clock.ts";
import { initialState, nextDeadline, OPEN_HOLD, retryDelay, STABLE_AFTER, step } from "../../src/bgp/fsm.ts";
import type { OutMessage, SessionAction, SessionConfig, SessionEvent, SessionState, WantedRoute } from "../../src/bgp/fsm.ts";
import { ourCapabilities } from "../../src/bgp/message.ts";
import type { BgpMessage, OpenMessage } from "../../src/bgp/message.ts";
import { makePrefix } from "../../src/bgp/prefix.ts";
import { COMMUNITY } from "../../src/bgp/update.ts";

const CFG: SessionConfig = { localAs: 65001, peerAs: 65000, routerId: "192.0.2.11", holdTime: 3, family: 4, localPref: 100, retry: 1000, retryMax: 30_000, connectTimeout: 5000 };

const route = (address: string, communities: number[] = []): WantedRoute => ({ prefix: makePrefix(address, address.includes(":") ? 128 : 32), communities, largeCommunities: [] });

const peerOpen = (o: Partial<OpenMessage> = {}): BgpMessage => ({
  type: "open", version: 4, myAs: 65000, holdTime: 90, routerId: "192.0.2.1", capabilities: ourCapabilities(65000, [4]), ...o,
});

/** Drives the machine as the session does: FakeClock timers at each deadline. */
function harness(cfg: SessionConfig = CFG) {
  const clock = new FakeClock();
  let state: SessionState = initialState(cfg, 0);
  const log: SessionAction[] = [];
  let timer: { cancel(): void } | undefined;
  const send = (e: SessionEvent) => {
    const r = step(state, e, clock.now());
    state = r.state;
    log.push(...r.actions);
    timer?.cancel();
    const at = nextDeadline(state);
    if (at !== undefined) timer = clock.setTimeout(() => send({ type: "timer" }), at - clock.now());
  };
  const sent = () => log.filter((a): a is Extract<SessionAction, { type: "send" }> => a.type === "send").map((a) => a.message);
  const take = () => log.splice(0);
  /** Start → connected → peer OPEN → peer KEEPALIVE. */
  const establish = (open: BgpMessage = peerOpen()) => {
    send({ type: "start" });
    send({ type: "connected", localAddress: "192.0.2.11" });
    send({ type: "message", message: open });
    send({ type: "message", message: { type: "keepalive" } });
  };
  return { clock, send, get state() { return state; }, log, sent, take, establish };
}

const notificationsOf = (msgs: OutMessage[]) => msgs.filter((m): m is Extract<OutMessage, { type: "notification" }> => m.type === "notification").map((m) => [m.notification.code, m.notification.subcode]);
const updatesOf = (msgs: OutMessage[]) => msgs.filter((m): m is Extract<OutMessage, { type: "update" }> => m.type === "update").map((m) => m.spec);

test("Idle → Connect → OpenSent → OpenConfirm → Established; the wanted routes go out on Established", () => {
  const h = harness();
  h.send({ type: "routes", routes: [route("203.0.113.10"), route("2001:db8::10")] });
  h.send({ type: "start" });
  assert.deepEqual(h.take().map((a) => a.type), ["connect", "transition"]);
  assert.equal(h.state.name, "connect");
  h.send({ type: "connected", localAddress: "192.0.2.11" });
  const open = h.sent()[0];
  assert.equal(open.type, "open");
  assert.equal(open.type === "open" && open.holdTime, 3);
  assert.equal(h.state.name, "opensent");
  assert.equal(h.state.holdAt, OPEN_HOLD, "RFC 4271 §8.2.2: a large hold time while waiting for the OPEN");
  h.take();
  h.send({ type: "message", message: peerOpen() });
  assert.equal(h.state.name, "openconfirm");
  assert.deepEqual(h.sent(), [{ type: "keepalive" }]);
  assert.equal(h.state.negotiated?.holdTime, 3, "the smaller hold time wins");
  h.take();
  h.send({ type: "message", message: { type: "keepalive" } });
  assert.equal(h.state.name, "established");
  const [u] = updatesOf(h.sent());
  assert.deepEqual(u.announce?.prefixes, [makePrefix("203.0.113.10", 32)], "only the session's family");
  assert.deepEqual(u.announce?.attributes, { asPath: [65001], nextHop: "192.0.2.11", med: undefined, localPref: undefined, communities: [], largeCommunities: [] });
  assert.deepEqual(Object.keys(h.state.sent), ["203.0.113.10/32"]);
});

test("keepalives every hold/3; silence for the hold time → NOTIFICATION 4/0, Idle, reconnect after 1 s", () => {
  const h = harness();
  h.establish();
  h.take();
  h.clock.advance(2500);
  assert.equal(h.sent().filter((m) => m.type === "keepalive").length, 2, "at 1 s and 2 s");
  h.send({ type: "message", message: { type: "keepalive" } });
  h.take();
  h.clock.advance(2999);
  assert.equal(h.state.name, "established");
  h.clock.advance(1);
  assert.equal(h.state.name, "idle");
  assert.deepEqual(notificationsOf(h.sent()), [[4, 0]]);
  assert.ok(h.log.some((a) => a.type === "close"));
  assert.equal(h.state.lastError, "hold timer expired: nothing heard from the peer");
  h.take();
  h.clock.advance(1000);
  assert.equal(h.state.name, "connect");
});

test("hold time 0 from the peer: no keepalives and no hold timer", () => {
  const h = harness();
  h.establish(peerOpen({ holdTime: 0 }));
  assert.equal(h.state.name, "established");
  assert.equal(nextDeadline(h.state), undefined);
  h.take();
  h.clock.advance(600_000);
  assert.equal(h.state.name, "established");
  assert.equal(h.sent().length, 0);
});

test("route changes: withdrawals and announcements of the difference only; new attributes re-announce", () => {
  const h = harness();
  h.send({ type: "routes", routes: [route("203.0.113.10"), route("203.0.113.11")] });
  h.establish();
  h.take();
  h.send({ type: "routes", routes: [route("203.0.113.10"), route("203.0.113.11")] });
  assert.equal(h.sent().length, 0, "nothing changed, nothing sent");
  h.send({ type: "routes", routes: [route("203.0.113.11"), route("203.0.113.12")] });
  const specs = updatesOf(h.take().flatMap((a) => (a.type === "send" ? [a.message] : [])));
  assert.deepEqual(specs.map((s) => [s.withdraw.map((p) => p.address), s.announce?.prefixes.map((p) => p.address) ?? []]), [[["203.0.113.10"], []], [[], ["203.0.113.12"]]]);
  h.send({ type: "routes", routes: [route("203.0.113.11", [COMMUNITY.GRACEFUL_SHUTDOWN]), route("203.0.113.12")] });
  const again = updatesOf(h.sent());
  assert.equal(again.length, 1);
  assert.deepEqual(again[0].announce?.attributes.communities, [COMMUNITY.GRACEFUL_SHUTDOWN]);
  h.take();
  h.send({ type: "routes", routes: [] });
  assert.deepEqual(updatesOf(h.sent()).map((s) => s.withdraw.length), [2]);
});

test("ROUTE-REFRESH: the whole Adj-RIB-Out is sent again (RFC 2918 §4)", () => {
  const h = harness();
  h.send({ type: "routes", routes: [route("203.0.113.10")] });
  h.establish();
  h.take();
  h.send({ type: "message", message: { type: "route_refresh", afi: 1, safi: 1 } });
  assert.equal(updatesOf(h.sent())[0].announce?.prefixes[0].address, "203.0.113.10");
});

test("an internal peer gets LOCAL_PREF and an empty AS_PATH", () => {
  const h = harness({ ...CFG, peerAs: 65001 });
  h.send({ type: "routes", routes: [route("203.0.113.10")] });
  h.establish(peerOpen({ myAs: 65001, capabilities: ourCapabilities(65001, [4]) }));
  assert.deepEqual(updatesOf(h.sent())[0].announce?.attributes.localPref, 100);
  assert.deepEqual(updatesOf(h.sent())[0].announce?.attributes.asPath, []);
});

test("OPEN checks: wrong AS → 2/2, our own identifier from an internal peer → 2/3, no common family → 2/7", () => {
  const cases: [BgpMessage, SessionConfig, number][] = [
    [peerOpen({ myAs: 65099, capabilities: ourCapabilities(65099, [4]) }), CFG, 2],
    [peerOpen({ myAs: 65001, routerId: "192.0.2.11", capabilities: ourCapabilities(65001, [4]) }), { ...CFG, peerAs: 65001 }, 3],
    [peerOpen({ capabilities: ourCapabilities(65000, [6]) }), CFG, 7],
  ];
  for (const [open, cfg, subcode] of cases) {
    const h = harness(cfg);
    h.send({ type: "start" });
    h.send({ type: "connected", localAddress: "192.0.2.11" });
    h.send({ type: "message", message: open });
    assert.equal(h.state.name, "idle");
    assert.deepEqual(notificationsOf(h.sent()), [[2, subcode]]);
  }
  // A peer that sends no multiprotocol capability at all offers IPv4 unicast (RFC 4760 §8).
  const h = harness();
  h.establish(peerOpen({ capabilities: [] }));
  assert.equal(h.state.name, "established");
});

test("unexpected messages → Finite State Machine Error 5/1, 5/2, 5/3 (RFC 6608)", () => {
  const inOpenSent = harness();
  inOpenSent.send({ type: "start" });
  inOpenSent.send({ type: "connected", localAddress: "192.0.2.11" });
  inOpenSent.send({ type: "message", message: { type: "keepalive" } });
  assert.deepEqual(notificationsOf(inOpenSent.sent()), [[5, 1]]);
  const inOpenConfirm = harness();
  inOpenConfirm.send({ type: "start" });
  inOpenConfirm.send({ type: "connected", localAddress: "192.0.2.11" });
  inOpenConfirm.send({ type: "message", message: peerOpen() });
  inOpenConfirm.send({ type: "message", message: { type: "update", withdrawn: [], nlri: [], attributes: {} } });
  assert.deepEqual(notificationsOf(inOpenConfirm.sent()), [[5, 2]]);
  const inEstablished = harness();
  inEstablished.establish();
  inEstablished.send({ type: "message", message: peerOpen() });
  assert.deepEqual(notificationsOf(inEstablished.sent()), [[5, 3]]);
  assert.equal(inEstablished.state.name, "idle");
});

test("a bad message is answered with its NOTIFICATION; a NOTIFICATION from the peer is not answered", () => {
  const h = harness();
  h.establish();
  h.take();
  h.send({ type: "malformed", notification: { code: 3, subcode: 11, data: new Uint8Array(0) }, reason: "bad path" });
  assert.deepEqual(notificationsOf(h.sent()), [[3, 11]]);
  assert.equal(h.state.name, "idle");
  const p = harness();
  p.establish();
  p.take();
  p.send({ type: "message", message: { type: "notification", code: 6, subcode: 2, data: new Uint8Array(0) } });
  assert.equal(p.state.name, "idle");
  assert.deepEqual(notificationsOf(p.sent()), []);
  assert.ok(p.log.some((a) => a.type === "notification_received"));
  assert.match(p.state.lastError ?? "", /Cease \/ Administrative Shutdown/);
});

test("reconnection backs off 1, 2, 4... s up to retryMax; a session up for a minute resets it", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((f) => retryDelay(CFG, f)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  const h = harness();
  h.send({ type: "start" });
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    h.send({ type: "connect_failed", reason: "ECONNREFUSED" });
    const at = h.state.retryAt!;
    waits.push(at - h.clock.now());
    h.clock.advance(at - h.clock.now());
    assert.equal(h.state.name, "connect");
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000]);
  h.send({ type: "connected", localAddress: "192.0.2.11" });
  h.send({ type: "message", message: peerOpen({ holdTime: 0 }) });
  h.send({ type: "message", message: { type: "keepalive" } });
  h.clock.advance(STABLE_AFTER);
  h.send({ type: "closed", reason: "ECONNRESET" });
  assert.equal(h.state.retryAt! - h.clock.now(), 1000);
});

test("no TCP connection within connectTimeout → Idle, then another try", () => {
  const h = harness();
  h.send({ type: "start" });
  h.clock.advance(5000);
  assert.equal(h.state.name, "idle");
  assert.match(h.state.lastError ?? "", /no answer within 5000ms/);
  h.clock.advance(1000);
  assert.equal(h.state.name, "connect");
});

test("stop: a Cease / Administrative Shutdown carrying the reason, no reconnection until start", () => {
  const h = harness();
  h.establish();
  h.take();
  h.send({ type: "stop", reason: "SIGTERM" });
  const [n] = h.sent();
  assert.deepEqual(n, { type: "notification", notification: { code: 6, subcode: 2, data: new Uint8Array(0) }, shutdown: "SIGTERM" });
  assert.equal(h.state.name, "idle");
  assert.equal(h.state.retryAt, undefined);
  h.clock.advance(120_000);
  assert.equal(h.state.name, "idle");
  h.send({ type: "start" });
  assert.equal(h.state.name, "connect");
});
