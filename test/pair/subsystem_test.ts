// The pair subsystem between two in-process hosts: replication, resync, drift, staged reload,
// split brain, which host sends alerts, closing connections on a VIP that leaves, certificates.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeCa, makeLeaf } from "../helpers/certs.ts";
import { MemoryTransport } from "../helpers/memory_transport.ts";
import { load, makeHost, named, newPort, pairYaml, type TestHost, until } from "./hosts.ts";

let running: TestHost[] = [];

async function start(extra = "", text?: string) {
  const transport = new MemoryTransport();
  const yaml = text ?? pairYaml(newPort(), extra);
  const a = makeHost("lb1", "master", yaml, transport);
  const b = makeHost("lb2", "backup", yaml, transport);
  running.push(a, b);
  await b.pair.start();
  await a.pair.start();
  assert.ok(await until(() => a.services.pair!.status().link.state === "up" && b.services.pair!.status().peer?.state !== undefined), "the link did not come up");
  return { a, b, transport, yaml };
}

afterEach(async () => {
  for (const h of running) await h.pair.stop("test over");
  running = [];
});

describe("pair subsystem", () => {
  it("replicates stick entries both ways within ~100 ms, servers by name, with their expiry and the lag", async () => {
    const { a, b } = await start();
    for (let i = 0; i < 100; i++) a.stick(`10.1.0.${i}`, ["a", "b", "c"][i % 3]);
    b.stick("10.2.0.1", "c");
    assert.ok(await until(() => b.table().size === 101 && a.table().size === 101));
    assert.equal(b.table().get("10.1.0.4"), "b");
    assert.equal(a.table().get("10.2.0.1"), "c");
    const e = b.backend.stick!.peek("10.1.0.4")!;
    assert.ok(e.expiresAt - performance.now() > 29 * 60_000, "the expiry travels");
    const st = a.services.pair!.status();
    assert.equal(st.replication.sentEntries, 100);
    assert.ok(st.replication.lagMs !== undefined && st.replication.lagMs < 1000, `lag ${st.replication.lagMs}`);
    // A client moving to another server moves on the peer too.
    a.stick("10.1.0.4", "c");
    assert.ok(await until(() => b.table().get("10.1.0.4") === "c"));
  });

  it("a host that restarts gets the whole table; entries for servers it lacks are ignored", async () => {
    const { a, b, transport, yaml } = await start();
    for (let i = 0; i < 5000; i++) a.stick(`10.3.${i >> 8}.${i & 255}`, "a");
    assert.ok(await until(() => b.table().size === 5000));
    await b.pair.stop("restart");
    running = running.filter((h) => h !== b);
    const b2 = makeHost("lb2", "backup", yaml, transport);
    running.push(b2);
    assert.equal(b2.table().size, 0);
    await b2.pair.start();
    assert.ok(await until(() => b2.table().size === 5000), `got ${b2.table().size}`);
    assert.ok(await until(() => named(b2, "pair.resync").some((e) => e.direction === "received" && e.entries === 5000)));
    // The peer knows a server this host does not have.
    a.backend.stick!.merge("10.9.9.9", "zzz", performance.now() + 60_000);
    a.stick("10.9.9.8", "b");
    assert.ok(await until(() => b2.table().has("10.9.9.8")));
    assert.equal(b2.table().has("10.9.9.9"), false);
  });

  it("too many changes at once are dropped and a full resync follows: nothing is lost, memory stays bounded", async () => {
    const { a, b } = await start();
    for (let i = 0; i < 120_000; i++) a.stick(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, "b");
    assert.ok(a.services.pair!.status().replication.droppedKeys > 0, "the pending set did not overflow");
    assert.ok(await until(() => b.table().size === 120_000, 20_000), `peer has ${b.table().size}`);
    assert.ok(await until(() => a.services.pair!.status().replication.resyncsSent >= 2), "no second resync");
  });

  it("config drift is seen on both hosts with the first differing keys, and clears when the files match again", async () => {
    const port = newPort();
    const yaml = pairYaml(port);
    const transport = new MemoryTransport();
    const a = makeHost("lb1", "master", yaml, transport);
    const other = yaml.replace("c: { address: 10.0.0.3, port: 80 }", "c: { address: 10.0.0.3, port: 81 }");
    const b = makeHost("lb2", "backup", other, transport);
    running.push(a, b);
    await b.pair.start();
    await a.pair.start();
    assert.ok(await until(() => named(a, "pair.config_drift").length === 1 && named(b, "pair.config_drift").length === 1));
    assert.deepEqual(named(a, "pair.config_drift")[0].keys, ["proxies.web.servers.c.port"]);
    assert.deepEqual(named(b, "pair.config_drift")[0].keys, ["proxies.web.servers.c.port"]);
    const st = a.services.pair!.status();
    assert.equal(st.config.same, false);
    await b.pair.reload(load(yaml, "backup", "lb2"));
    assert.ok(await until(() => named(a, "pair.config_same").length === 1 && named(b, "pair.config_same").length === 1));
    assert.equal(a.services.pair!.status().config.same, true);
    assert.equal(named(a, "pair.config_drift").length, 1, "reported once");
  });

  it("staged reload: the host without the VIP first, then the other; a broken file on the backup stops before the master", async () => {
    const { a, b } = await start();
    b.validate = { valid: false, errors: ["pair.yaml:12:5: error: unknown key \"bnd\""] };
    const failed = await a.services.pair!.stagedReload();
    assert.equal(failed.ok, false);
    assert.match(failed.lines.join("\n"), /validate lb2 \(backup\): 1 error[\s\S]*unknown key "bnd"[\s\S]*stopped: the file does not validate on lb2 \(backup\); nothing was reloaded/);
    assert.equal(a.reloads + b.reloads, 0);
    b.validate = { valid: true, errors: [], config: b.config };
    const order: string[] = [];
    a.bus.on("config.reloaded", () => order.push("a"));
    const ok = await a.services.pair!.stagedReload();
    assert.equal(ok.ok, true, ok.lines.join("\n"));
    assert.match(ok.lines.join("\n"), /order: lb2 \(backup\) first \(it does not hold the VIP\), then lb1 \(master\)[\s\S]*reload lb2 \(backup\): applied, healthy[\s\S]*reload lb1 \(master\): applied[\s\S]*done/);
    assert.deepEqual([a.reloads, b.reloads], [1, 1]);
  });

  it("staged reload: a backup that does not come back healthy stops the rollout before the master", async () => {
    const { a, b } = await start();
    b.services.proxy!.healthy = () => ({ healthy: false, reason: '"web" has 0 server(s) up, needs 1' });
    a.config.pair.link!.reloadTimeout = 1500;
    const r = await a.services.pair!.stagedReload();
    assert.equal(r.ok, false);
    assert.match(r.lines.at(-1)!, /lb2 \(backup\) is not healthy 1\.5s after its reload: "web" has 0 server\(s\) up, needs 1; lb1 \(master\) was not reloaded/);
    assert.deepEqual([a.reloads, b.reloads], [0, 1]);
  });

  it("split brain over the link: an event on both hosts, the alert from the master role only, GARP asked for when it ends", async () => {
    const { a, b } = await start();
    assert.deepEqual([a.services.pair!.alertSender().send, b.services.pair!.alertSender().send], [true, false]);
    b.vrrp.state = "master";
    b.bus.emit("vrrp.state", { instance: "VI_1", from: "backup", to: "master", priority: 50, reason: "no advertisement", vips: ["192.0.2.100"] });
    assert.ok(await until(() => named(a, "pair.split_brain").length === 1 && named(b, "pair.split_brain").length === 1));
    assert.equal(named(a, "pair.split_brain")[0].source, "link");
    assert.deepEqual([a.services.pair!.alertSender().send, b.services.pair!.alertSender().send], [true, false], "both hold the VIP: the master role sends");
    b.vrrp.state = "backup";
    b.bus.emit("vrrp.vips_leaving", { instance: "VI_1", vips: ["192.0.2.100"] });
    b.bus.emit("vrrp.state", { instance: "VI_1", from: "master", to: "backup", priority: 50, reason: "higher priority master", vips: ["192.0.2.100"] });
    assert.ok(await until(() => named(a, "pair.split_brain_ended").length === 1 && named(b, "pair.split_brain_ended").length === 1));
    assert.deepEqual(b.closed, [["192.0.2.100"]], "the VIP left lb2: its connections on it were closed");
  });

  it("alerts when the link is down: the VIP holder sends; a backup sends only when no master is heard", async () => {
    const { a, b } = await start();
    await a.pair.stop("gone");
    assert.ok(await until(() => b.services.pair!.status().link.state !== "up"));
    assert.equal(b.services.pair!.alertSender().send, true, "no advert heard: the VIP holder is unreachable");
    assert.match(b.services.pair!.alertSender().why, /unreachable/);
  });

  it("why explains the VIP's place with the peer's view; show peer's data is in status()", async () => {
    const { a, b } = await start();
    const why = b.services.pair!.why();
    assert.match(why, /VI_1 \(VRID 51, VIPs 192\.0\.2\.100\/24\): held by 192\.0\.2\.11/);
    assert.match(why, /lb2 is BACKUP because a master's adverts arrive/);
    assert.match(why, /lb1 says: MASTER, priority 100/);
    assert.match(why, /pair link: waiting|pair link: up/);
    assert.match(a.services.pair!.why(), /lb1 is MASTER because its priority 100 is above lb2's 50/);
  });

  it("an ACME certificate goes to the peer: at connect (the newer one) and when issued", async () => {
    const port = newPort();
    const ca = makeCa();
    const yaml = pairYaml(port, "acme:\n  email: ops@example.com\n  directory: https://127.0.0.1:14000/dir\n  certificates:\n    web: { domains: [www.example.com] }\n");
    const transport = new MemoryTransport();
    const a = makeHost("lb1", "master", yaml, transport);
    const b = makeHost("lb2", "backup", yaml.replace(/state_dir: "[^"]+"/, `state_dir: "${ca.dir}/b"`), transport);
    running.push(a, b);
    mkdirSync(join(a.config.global.stateDir, "acme"), { recursive: true });
    const file = makeLeaf(ca, join(a.config.global.stateDir, "acme", "web.pem"), { names: ["www.example.com"] });
    await b.pair.start();
    await a.pair.start();
    const copy = join(b.config.global.stateDir, "acme", "web.pem");
    assert.ok(await until(() => named(b, "acme.installed").length === 1), "not installed on the peer");
    assert.equal(readFileSync(copy, "utf8"), readFileSync(file, "utf8"));
    const renewed = makeLeaf(ca, join(ca.dir, "renewed.pem"), { names: ["www.example.com"], notAfter: new Date(Date.now() + 120 * 86_400_000) });
    a.bus.emit("acme.issued", { name: "web", domains: ["www.example.com"], file: renewed, pem: readFileSync(renewed, "utf8"), notAfter: "" });
    assert.ok(await until(() => readFileSync(copy, "utf8") === readFileSync(renewed, "utf8")));
  });
});
