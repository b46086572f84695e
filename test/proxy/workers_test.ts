// global.workers > 1: worker processes share the listeners, mirror health, share stick entries, reload and stop.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { backend, config, freePort, frontend, namedServer, server, sleep, startProxy, tcpCheck, tracker, waitFor, whoAnswers } from "./fixtures.ts";
import type { Harness } from "./fixtures.ts";
import type { ProxyStatus } from "../../src/proxy/workers.ts";
import { restartDelay, totalsOnly } from "../../src/proxy/workers.ts";
import { systemClock } from "../../src/core/clock.ts";
import { createLogger } from "../../src/core/log.ts";

const { track, defer, cleanAll } = tracker();
after(cleanAll);
const workerPids = () =>
  spawnSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes("worker_main")).map((l) => Number(l.trim().split(" ")[0]));
const status = (h: Harness) => h.ctx.services.proxy!.status() as ProxyStatus;

describe("proxy workers (global.workers: 2)", () => {
  it("both processes accept; health, stick entries and reload reach the worker; stop ends it", async () => {
    const a = await track(namedServer("a"));
    const b = await track(namedServer("b"));
    const port = await freePort();
    const port2 = await freePort();
    const check = tcpCheck();
    const cfg = config([frontend("w", [`127.0.0.1:${port}`])], [backend("w", [server("a", a.port, { check }), server("b", b.port, { check })])]);
    cfg.global.workers = 2;
    const h = await startProxy(cfg);
    defer(() => h.stop());
    assert.equal(workerPids().length, 1, "one worker process besides this one");

    // Connections spread over both processes (SO_REUSEPORT), all served, counted in one status.
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await whoAnswers(port));
    assert.deepEqual([...seen].sort(), ["a", "b"]);
    await waitFor(() => (status(h).acceptedPerWorker?.reduce((x, y) => x + y, 0) ?? 0) >= 40, 3000, "worker counters");
    const st = status(h);
    assert.equal(st.workers, 2);
    assert.equal(st.frontends[0].total, 40);
    assert.ok(st.acceptedPerWorker!.every((n) => n > 0), `both processes accepted: ${st.acceptedPerWorker}`);
    // Bytes too: each client got "a\n" or "b\n", whichever process served it.
    await waitFor(() => status(h).frontends[0].bytesOut === 80, 3000, `frontend bytes out over both processes: ${status(h).frontends[0].bytesOut}`);

    // Health runs in the main process; the worker follows: b dies, nobody sends to it.
    await b.close();
    await waitFor(() => h.ctx.services.proxy!.serverState("w", "b") === "down", 3000, "b down");
    await sleep(50);
    for (let i = 0; i < 20; i++) assert.equal(await whoAnswers(port), "a");

    // Reload: a stick table, and a second frontend; both processes take it.
    const b2 = await track(namedServer("b", b.port));
    const next = config(
      [frontend("w", [`127.0.0.1:${port}`]), frontend("w2", [`127.0.0.1:${port2}`], { defaultBackend: "w" })],
      [backend("w", [server("a", a.port, { check }), server("b", b2.port, { check })], { stick: { on: "src", type: "ip", size: 100, expire: 60_000 } })],
    );
    next.global.workers = 2;
    await h.proxy.reload(next);
    await waitFor(() => h.ctx.services.proxy!.serverState("w", "b") === "up", 3000, "b up again");
    await sleep(100);
    const first = await whoAnswers(port2);
    await sleep(100); // the entry reaches the other process
    for (let i = 0; i < 20; i++) assert.equal(await whoAnswers(i % 2 ? port : port2), first, "stuck to one server in both processes");
    await waitFor(() => status(h).frontends.find((f) => f.name === "w2")!.total >= 11, 3000, "w2 counters");
    const per = status(h).acceptedPerWorker!;
    assert.ok(per.every((n) => n > 0), `both processes accepted after reload: ${per}`);

    const pids = workerPids();
    await h.proxy.stop("test over");
    await waitFor(() => pids.every((pid) => !workerPids().includes(pid)), 3000, "worker exit");
  });
});

describe("a proxy worker that dies", () => {
  it("is started again at once, then with a growing delay while it keeps dying young", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 6, 7, 10].map(restartDelay), [0, 0, 1000, 2000, 4000, 16_000, 30_000, 30_000]);
  });

  it("keeps counting its totals, not its live connections", () => {
    const st: ProxyStatus = {
      connections: 3,
      frontends: [{ name: "w", active: 3, total: 40, held: 1, bytesIn: 100, bytesOut: 200 }],
      backends: [{ name: "w", active: 2, queued: 1, servers: [{ name: "a", active: 2, total: 39, queued: 1, bytesIn: 5, bytesOut: 6, connectErrors: 1 }] }],
    };
    assert.deepEqual(totalsOnly(st), {
      connections: 0,
      frontends: [{ name: "w", active: 0, total: 40, held: 0, bytesIn: 100, bytesOut: 200 }],
      backends: [{ name: "w", active: 0, queued: 0, servers: [{ name: "a", active: 0, total: 39, queued: 0, bytesIn: 5, bytesOut: 6, connectErrors: 1 }] }],
    });
  });

  it("kill -9: the main process stops counting it (its totals stay), starts it again at once, and both serve", async () => {
    const a = await track(namedServer("a"));
    const port = await freePort();
    const cfg = config([frontend("w", [`127.0.0.1:${port}`])], [backend("w", [server("a", a.port)])]);
    cfg.global.workers = 2;
    const lines: string[] = [];
    const h = await startProxy(cfg, systemClock, createLogger("t", { level: "info", write: (l) => lines.push(l) }));
    defer(() => h.stop());
    for (let i = 0; i < 40; i++) assert.equal(await whoAnswers(port), "a");
    await waitFor(() => (status(h).acceptedPerWorker?.[1] ?? 0) > 0 && status(h).frontends[0].total === 40, 3000, "the worker's counters");
    const [pid] = workerPids();
    process.kill(pid, "SIGKILL");
    await waitFor(() => lines.some((l) => /Proxy worker 1 \(pid \d+\) died \(SIGKILL\): new connections go to the other processes/.test(l)), 3000, "the death logged");
    assert.equal(status(h).frontends[0].total, 40, "its totals still count");
    await waitFor(() => lines.some((l) => /Proxy worker 1 started again/.test(l)), 5000, `started again:\n${lines.join("\n")}`);
    const again = workerPids();
    assert.equal(again.length, 1);
    assert.notEqual(again[0], pid);
    assert.equal(status(h).workers, 2);
    for (let i = 0; i < 40; i++) assert.equal(await whoAnswers(port), "a");
    await waitFor(() => status(h).frontends[0].total === 80 && status(h).acceptedPerWorker![1] > 0, 3000, `both serve again: ${JSON.stringify(status(h).acceptedPerWorker)}`);
  });
});
