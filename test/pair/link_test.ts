import { test } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { PairLinkConfig } from "../../src/pair/config.ts";
import { PairLink, backoffDelay } from "../../src/pair/link.ts";
import { stretchKey } from "../../src/pair/handshake.ts";
import { encodeJson, MSG, type Decoded } from "../../src/pair/messages.ts";
import { MemoryTransport } from "../helpers/memory_transport.ts";

function linkConfig(role: "master" | "backup", port: number): PairLinkConfig {
  const a = { master: "192.0.2.11", backup: "192.0.2.12" };
  const peer = role === "master" ? "backup" : "master";
  return { key: "", port, self: { role, address: a[role] }, peer: { role: peer, address: a[peer] }, timeout: 3000, reloadTimeout: 30000 };
}

let nextPort = 47_400;

/** Two links over one memory transport; returns them with what each saw. */
function pair(keys: [string, string], roles: ["master" | "backup", "master" | "backup"] = ["master", "backup"]) {
  const transport = new MemoryTransport();
  const port = nextPort++;
  const seen = [0, 1].map(() => ({ up: 0, down: [] as string[], refused: [] as string[], messages: [] as Decoded[] }));
  const links = [0, 1].map((i) => new PairLink(linkConfig(roles[i], port), { transport, clock: systemClock, log: nullLogger, psk: stretchKey(keys[i]) }, {
    up: () => seen[i].up++,
    down: (_c, reason) => seen[i].down.push(reason),
    message: (_c, m) => seen[i].messages.push(m),
    refused: (_a, reason) => seen[i].refused.push(reason),
  }));
  return { links, seen, start: () => { links[1].start(); links[0].start(); }, stop: () => links.forEach((l) => l.stop()) };
}

const until = async (fn: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
};

test("both hosts with the same key: the link comes up and carries messages both ways", async () => {
  const p = pair(["a secret of some length", "a secret of some length"]);
  p.start();
  assert.ok(await until(() => p.seen[0].up === 1 && p.seen[1].up === 1), "link did not come up");
  assert.equal(p.links[0].state, "up");
  p.links[0].connection!.send(encodeJson(MSG.resync, { phase: "begin", entries: 3 }));
  p.links[1].connection!.send(encodeJson(MSG.resync, { phase: "end", entries: 4 }));
  assert.ok(await until(() => p.seen[0].messages.length === 1 && p.seen[1].messages.length === 1));
  assert.deepEqual(p.seen[1].messages[0], { type: MSG.resync, value: { phase: "begin", entries: 3 } });
  p.stop();
});

test("a peer with another key is refused on both sides and nothing crashes; the master keeps retrying", async () => {
  const p = pair(["the right key, long enough", "another key, also long"]);
  p.start();
  assert.ok(await until(() => p.seen[0].refused.length >= 1 && p.seen[1].refused.length >= 1), "no refusal");
  assert.match(p.seen[1].refused[0], /does not hold the pair key/);
  assert.match(p.seen[0].refused[0], /pair\.key differs/);
  assert.equal(p.seen[0].up + p.seen[1].up, 0);
  assert.ok(p.links[0].stats.refusals >= 1);
  p.stop();
});

test("a peer that presents the wrong role is refused with the reason", async () => {
  const transport = new MemoryTransport();
  const port = nextPort++;
  const refused: string[] = [];
  const events = { up() {}, down() {}, message() {}, refused: (_a: string, reason: string) => refused.push(reason) };
  const psk = stretchKey("same key for both hosts!");
  // The listener was given a file where its peer is a backup too.
  const confused = new PairLink({ ...linkConfig("backup", port), peer: { role: "backup", address: "192.0.2.11" } }, { transport, clock: systemClock, log: nullLogger, psk }, events);
  const master = new PairLink(linkConfig("master", port), { transport, clock: systemClock, log: nullLogger, psk }, events);
  confused.start();
  master.start();
  assert.ok(await until(() => refused.length >= 2), refused.join("\n"));
  assert.match(refused.join("\n"), /the peer runs as master, expected backup/);
  confused.stop();
  master.stop();
});

test("backoff doubles from 200 ms to 5 s with jitter", () => {
  assert.equal(backoffDelay(0, 0.5), 200);
  assert.equal(backoffDelay(1, 0.5), 400);
  assert.equal(backoffDelay(10, 0.5), 5000);
  assert.equal(backoffDelay(3, 0), 1280);
});
