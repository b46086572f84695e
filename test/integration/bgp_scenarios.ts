// The scale-out scenarios both router labs run (bgp_bird_test.ts, bgp_frr_test.ts): three built
// tandem binaries announce one VIP (and an IPv6 one) to the router, which spreads flows by ECMP.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { canRunLab } from "./vrrp_lab.ts";
import { BgpLab, HOLD, NODES, streamResults, VIP, VIP6, wall, type NodeName, type RouterKind, type StreamResult } from "./bgp_lab.ts";

const others = (n: NodeName) => NODES.filter((x) => x !== n);

/** Requests that failed, as "answer at time" lines for a message. */
const failures = (rs: StreamResult[]) => rs.filter((r) => r.answer.startsWith("ERR")).map((r) => `${r.answer} (started ${r.start.toFixed(0)})`);

async function stopStream(p: ReturnType<BgpLab["stream"]>): Promise<StreamResult[]> {
  p.child.kill("SIGTERM");
  await p.exited;
  return streamResults(p);
}

/** Registers the scenarios for one router kind. */
export function scenarios(kind: RouterKind): void {
  const skip = !canRunLab() && "needs root for network namespaces";
  let lab: BgpLab;

  before(async () => {
    if (skip) return;
    lab = new BgpLab(kind, { ipv6: true, password: true });
    await lab.startRouter();
    for (const n of NODES) await lab.startBackend(n);
    await lab.startApp();
    lab.writeConfig("  graceful_shutdown: 300ms\n");
    await Promise.all(NODES.map((n) => lab.startNode(n)));
  });
  after(async () => {
    await lab?.destroy();
  });

  test(`${kind}: three nodes announce over TCP MD5, the router installs three ECMP paths (IPv4 and IPv6), new connections spread over all nodes`, { skip }, async () => {
    assert.ok(await lab.waitPaths(NODES, 10_000) >= 0, `paths ${lab.paths()}\n${lab.routeReport()}`);
    assert.ok(await lab.waitPaths(NODES, 5_000, VIP6) >= 0, `IPv6 paths ${lab.paths(VIP6)}\n${lab.routeReport()}`);
    const r = lab.requests(90);
    assert.deepEqual(r.errors, []);
    for (const n of NODES) assert.ok((r.counts[n] ?? 0) >= 10, `${n} got ${r.counts[n] ?? 0} of 90: ${JSON.stringify(r.counts)}`);
    const r6 = lab.requests(30, VIP6);
    assert.deepEqual(r6.errors, []);
    assert.ok(Object.keys(r6.counts).length >= 2, `IPv6 answers ${JSON.stringify(r6.counts)}`);
    for (const n of NODES) assert.match(lab.lab.exec(n, ["ip", "addr", "show", "dev", "lo"]), new RegExp(`inet ${VIP.replace(/\./g, "\\.")}/32`));
    const show = lab.ctl("n1", "show bgp");
    assert.match(show, /Peers:\n {2}192\.0\.2\.1 AS 65000: established since .*, hold 3s, peer ID 192\.0\.2\.1, next hop 192\.0\.2\.11/);
    assert.match(show, /203\.0\.113\.10\/32: announced since .*: all listeners bound, servers up \(checks web, pool\)/);
    assert.match(show, /2001:db8:113::10\/128: announced/);
  });

  test(`${kind}: balance source with hash consistent: a client reaches the same server through whichever node ECMP picks`, { skip }, async () => {
    const bySource = lab.sourceRequests(6);
    let crossed = 0;
    for (const [src, answers] of Object.entries(bySource)) {
      assert.deepEqual(answers.filter((a) => a.startsWith("ERR")), [], src);
      const servers = new Set(answers.map((a) => a.split(" ")[0]));
      const via = new Set(answers.map((a) => a.split(" ").at(-1)));
      assert.equal(servers.size, 1, `${src} reached ${[...servers].join(", ")} through ${[...via].join(", ")}`);
      if (via.size > 1) crossed++;
    }
    assert.ok(crossed >= Object.keys(bySource).length / 2, `only ${crossed} sources went through more than one node`);
    const used = new Set(Object.values(bySource).map((a) => a[0].split(" ")[0]));
    assert.equal(used.size, 3, `servers used: ${[...used].join(", ")}`);
  });

  test(`${kind}: a node whose servers all fail withdraws and no client is sent to it; it is back when they are`, { skip }, async () => {
    await lab.stopBackend("n2");
    const took = await lab.waitPaths(others("n2"), 3000);
    assert.ok(took >= 0, `paths ${lab.paths()}`);
    assert.doesNotMatch(lab.lab.exec("n2", ["ip", "addr", "show", "dev", "lo"]), new RegExp(VIP.replace(/\./g, "\\.")));
    const r = lab.requests(60);
    assert.deepEqual(r.errors, []);
    assert.equal(r.counts.n2, undefined, JSON.stringify(r.counts));
    assert.match(lab.ctl("n2", "show bgp"), /203\.0\.113\.10\/32: withdrawn since .*"web" has 0 server\(s\) up, needs 1/);
    console.log(`# ${kind}: servers down → withdrawn from the router in ${took.toFixed(0)} ms`);
    await lab.startBackend("n2");
    assert.ok(await lab.waitPaths(NODES, 3000) >= 0, `n2 not back: ${lab.paths()}`);
  });

  test(`${kind}: kill -9 is withdrawn within hold time + 1 s and clients keep being served; the restarted node rejoins`, { skip }, async () => {
    const stream = lab.stream(10);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = wall();
    lab.nodes.get("n3")!.child.kill("SIGKILL");
    const took = await lab.waitPaths(others("n3"), HOLD * 1000 + 2000);
    assert.ok(took >= 0 && took <= HOLD * 1000 + 1000, `withdrawn after ${took} ms: ${lab.paths()}`);
    await new Promise((r) => setTimeout(r, 700));
    const rs = await stopStream(stream);
    const after = rs.filter((r) => r.start > t0 + took + 100);
    assert.ok(after.length > 20, `${after.length} requests after the withdrawal`);
    assert.deepEqual(failures(after), [], "requests after the withdrawal");
    assert.equal(after.filter((r) => r.answer === "n3").length, 0);
    console.log(`# ${kind}: kill -9 → withdrawn in ${took.toFixed(0)} ms; ${failures(rs.filter((r) => r.start >= t0)).length} request(s) failed before that`);
    await lab.nodes.get("n3")!.exited;
    await lab.startNode("n3");
    assert.ok(await lab.waitPaths(NODES, 10_000) >= 0, `n3 did not rejoin: ${lab.paths()}`);
    const r = lab.requests(60);
    assert.deepEqual(r.errors, []);
    assert.ok((r.counts.n3 ?? 0) > 0, JSON.stringify(r.counts));
  });

  test(`${kind}: a frozen node (SIGSTOP: its TCP stays open) is withdrawn when the router's hold timer expires, and recovers`, { skip }, async () => {
    const p = lab.nodes.get("n2")!;
    process.kill(p.child.pid!, "SIGSTOP");
    const took = await lab.waitPaths(others("n2"), HOLD * 1000 + 2000);
    process.kill(p.child.pid!, "SIGCONT");
    assert.ok(took >= 0 && took <= HOLD * 1000 + 1000, `withdrawn after ${took} ms`);
    console.log(`# ${kind}: frozen node withdrawn by the hold timer after ${took.toFixed(0)} ms`);
    assert.ok(await lab.waitPaths(NODES, 10_000) >= 0, `n2 did not come back: ${lab.paths()}\n${p.output().slice(-2000)}`);
  });

  test(`${kind}: SIGTERM withdraws first (after the graceful-shutdown community), serves on, then drains; no request fails`, { skip }, async () => {
    const stream = lab.stream(10);
    await new Promise((r) => setTimeout(r, 300));
    const n1 = lab.nodes.get("n1")!;
    let gshut = false;
    const seen = setInterval(() => (gshut ||= /\(65535, ?0\)|graceful-shutdown/i.test(lab.routeDetail())), 50);
    const t0 = wall();
    n1.child.kill("SIGTERM");
    const took = await lab.waitPaths(others("n1"), 3000);
    await n1.exited;
    clearInterval(seen);
    const exited = wall() - t0;
    await new Promise((r) => setTimeout(r, 300));
    const rs = await stopStream(stream);
    assert.ok(took >= 0, `n1 still a path: ${lab.paths()}`);
    assert.deepEqual(failures(rs), [], `${rs.length} requests`);
    const lines = n1.lines.join("\n");
    const withdrew = lines.indexOf("Withdrew 203.0.113.10/32");
    const closing = lines.indexOf("Proxy stopping");
    assert.ok(withdrew >= 0 && closing > withdrew, "withdrawn before the listeners close");
    assert.ok(lines.indexOf("GRACEFUL_SHUTDOWN") >= 0 && lines.indexOf("GRACEFUL_SHUTDOWN") < withdrew);
    console.log(`# ${kind}: SIGTERM → off the router in ${took.toFixed(0)} ms, exited after ${exited.toFixed(0)} ms, ${rs.length} requests, none failed${gshut ? "" : " (graceful-shutdown community not caught in the router's table)"}`);
    await lab.startNode("n1");
    assert.ok(await lab.waitPaths(NODES, 10_000) >= 0, `n1 did not rejoin: ${lab.paths()}`);
  });
}
