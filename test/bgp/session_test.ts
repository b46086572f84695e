// A session over real loopback TCP against a scripted peer: establishment, UPDATEs, a malformed
// message answered with its NOTIFICATION and a clean reconnection, the Cease on stop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import { BgpSession } from "../../src/bgp/session.ts";
import type { SessionConfig } from "../../src/bgp/fsm.ts";
import { frame, TYPE } from "../../src/bgp/message.ts";
import type { BgpMessage } from "../../src/bgp/message.ts";
import { describeNotification } from "../../src/bgp/notification.ts";
import { makePrefix } from "../../src/bgp/prefix.ts";
import { systemConnector } from "../../src/runtime/tcp_connect.ts";
import { FakePeer, until, type Refused } from "../helpers/bgp_peer.ts";

const CFG: SessionConfig = { localAs: 65001, peerAs: 65000, routerId: "192.0.2.11", holdTime: 3, family: 4, localPref: 100, retry: 50, retryMax: 200, connectTimeout: 2000 };
const VIP = makePrefix("203.0.113.10", 32);

async function setup() {
  const peer = new FakePeer({ as: 65000, tandemAs: 65001 });
  const port = await peer.listen();
  const bus = new EventBus();
  const events: string[] = [];
  bus.onAny((e) => events.push(e.name));
  const session = new BgpSession({ name: `127.0.0.1:${port}`, address: "127.0.0.1", port, as: 65000, holdTime: 3 }, CFG, { clock: systemClock, bus, log: nullLogger, connect: systemConnector() });
  return { peer, session, events };
}

const updates = (ms: (BgpMessage | Refused)[]) => ms.filter((m): m is Extract<BgpMessage, { type: "update" }> | Refused => m.type === "update" || m.type === "refused");

test("establishes, announces with our address as next hop, withdraws", async () => {
  const { peer, session, events } = await setup();
  try {
    session.setRoutes([{ prefix: VIP, communities: [], largeCommunities: [] }]);
    session.start();
    assert.ok(await until(() => session.state === "established"), `state ${session.state}`);
    assert.ok(await until(() => updates(peer.last!.received).length === 1));
    const open = peer.last!.received[0];
    assert.equal(open.type === "open" && open.holdTime, 3);
    // On loopback the next hop is 127.0.0.1, which a peer's checks refuse (RFC 4271 §6.3, as FRR's
    // martian check): the refusal names it, and the route is the last five bytes.
    const u = updates(peer.last!.received)[0] as Refused;
    assert.equal(u.type, "refused");
    assert.match(u.reason, /Invalid NEXT_HOP Attribute: NEXT_HOP 127\.0\.0\.1/);
    assert.deepEqual([...u.bytes.subarray(-5)], [32, 203, 0, 113, 10]);
    assert.ok([...u.bytes].join(",").includes([0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9].join(",")), "AS_PATH [65001]");
    session.setRoutes([]);
    assert.ok(await until(() => updates(peer.last!.received).length === 2));
    const w = updates(peer.last!.received)[1];
    assert.deepEqual(w.type === "update" && w.withdrawn, [VIP]);
    assert.deepEqual(events, ["bgp.session_up"]);
    const st = session.status();
    assert.equal(st.state, "established");
    assert.equal(st.holdTime, 3);
    assert.equal(st.messages.sent.UPDATE, 2);
  } finally {
    await session.stop("test over");
    await peer.close();
  }
});

test("a malformed UPDATE gets its NOTIFICATION, the connection closes, and the session comes back", async () => {
  const { peer, session, events } = await setup();
  try {
    session.start();
    assert.ok(await until(() => session.state === "established"));
    // NEXT_HOP 0.0.0.0: RFC 4271 §6.3 Invalid NEXT_HOP Attribute.
    const attrs = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe8, 0x40, 3, 4, 0, 0, 0, 0];
    peer.last!.send(frame(TYPE.UPDATE, [0, 0, 0, attrs.length, ...attrs, 24, 10, 0, 0]));
    assert.ok(await until(() => peer.connections[0].closed));
    const n = peer.connections[0].received.at(-1)!;
    assert.equal(n.type, "notification");
    assert.equal(n.type === "notification" && describeNotification(n), "UPDATE Message Error / Invalid NEXT_HOP Attribute");
    assert.ok(await until(() => peer.connections.length === 2 && session.state === "established"), "reconnected");
    assert.deepEqual(events, ["bgp.session_up", "bgp.session_down", "bgp.session_up"]);
    assert.match(session.status().lastNotification?.text ?? "", /Invalid NEXT_HOP/);
  } finally {
    await session.stop("test over");
    await peer.close();
  }
});

test("garbage instead of a header: 1/1, then a clean reconnection", async () => {
  const { peer, session } = await setup();
  try {
    session.start();
    assert.ok(await until(() => session.state === "established"));
    peer.last!.send(new Uint8Array(40).fill(0x41));
    assert.ok(await until(() => peer.connections[0].closed));
    const n = peer.connections[0].received.at(-1)!;
    assert.deepEqual(n.type === "notification" && [n.code, n.subcode], [1, 1]);
    assert.ok(await until(() => peer.connections.length === 2 && session.state === "established"));
  } finally {
    await session.stop("test over");
    await peer.close();
  }
});

test("stop: a Cease / Administrative Shutdown with the reason, then no reconnection", async () => {
  const { peer, session } = await setup();
  session.start();
  assert.ok(await until(() => session.state === "established"));
  await session.stop("SIGTERM");
  assert.ok(await until(() => peer.connections[0].closed));
  const n = peer.connections[0].received.at(-1)!;
  assert.equal(n.type === "notification" && describeNotification(n), 'Cease / Administrative Shutdown: "SIGTERM"');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(peer.connections.length, 1);
  assert.equal(session.state, "idle");
  await peer.close();
});

test("nobody listening: Idle with the reason, retrying", async () => {
  const peer = new FakePeer({ as: 65000, tandemAs: 65001 });
  const port = await peer.listen();
  await peer.close();
  const session = new BgpSession({ name: "x", address: "127.0.0.1", port, as: 65000, holdTime: 3 }, CFG, { clock: systemClock, bus: new EventBus(), log: nullLogger, connect: systemConnector() });
  session.start();
  assert.ok(await until(() => /ECONNREFUSED/.test(session.status().lastError ?? "")));
  await session.stop("done");
});
