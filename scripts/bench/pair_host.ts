// One host of `npm run bench -- pair`: a real pair subsystem over node:net on loopback, with a
// backend whose stick table holds `entries` entries (the sender) or none (the receiver). Prints
// JSON lines: ready, then samples (table size, heap, RSS, event-loop delay) until told to stop.
// Usage: node scripts/bench/pair_host.ts master|backup PORT ENTRIES

import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Services } from "../../src/core/subsystem.ts";
import { Backend } from "../../src/proxy/backend.ts";
import { StickSharing } from "../../src/proxy/stick_sharing.ts";
import type { ProxyService } from "../../src/proxy/subsystem.ts";
import { createPairSubsystem } from "../../src/pair/subsystem.ts";
import { loadConfigText } from "../../src/tandem_config.ts";

const [role, port, count] = [process.argv[2] as "master" | "backup", Number(process.argv[3]), Number(process.argv[4])];
const yaml = `
global: { state_dir: /tmp/tandem-bench-pair-${process.pid} }
pair:
  key: bench-pair-key-0123456789abcdef
  port: ${port}
  roles: { master: { address: 127.0.0.1 }, backup: { address: 127.0.0.2 } }
proxies:
  web:
    mode: tcp
    bind: 127.0.0.1:1
    stick: { on: src, expire: 30m, size: 2000000 }
    servers: { a: { address: 10.0.0.1, port: 80 }, b: { address: 10.0.0.2, port: 80 }, c: { address: 10.0.0.3, port: 80 } }
`;
const config = loadConfigText(yaml, "bench.yaml", role).config!;
const bus = new EventBus();
const backend = new Backend(config.backends[0], { clock: systemClock, bus, log: nullLogger });
const backends = new Map([[backend.name, backend]]);
const sharing = new StickSharing({ backends: () => backends, clock: systemClock });
sharing.wire(backend);
const proxy: Partial<ProxyService> = {
  watchStick: (fn) => sharing.watch(fn),
  applyStick: (p, e) => sharing.apply(p, e),
  stickReader: (p, k) => sharing.reader(p, k),
  stickTables: () => [backend.name],
  healthy: () => ({ healthy: true, reason: "bench" }),
  status: () => ({ connections: 0, maxconn: 1, frontends: [], backends: [backend.status()] }),
  closeAccepted: () => 0,
};
const services: Services = { proxy: proxy as ProxyService };
const servers = ["a", "b", "c"];
const key = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");
const mem = () => {
  global.gc?.();
  const m = process.memoryUsage();
  return { heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), rssMB: +(m.rss / 2 ** 20).toFixed(1) };
};

const before = mem();
const t0 = performance.now();
for (let i = 0; i < count; i++) backend.stick!.store(key(i), servers[i % 3]);
const filled = { ms: Math.round(performance.now() - t0), ...mem() };
const loop = monitorEventLoopDelay({ resolution: 5 });
/** Our own measure of the event loop: how late a 5 ms timer fires (the longest, and how often over 20 ms). */
const late = { max: 0, over20: 0, ticks: 0, on: false };
const tick = () => {
  const due = performance.now() + 5;
  setTimeout(() => {
    const d = performance.now() - due;
    if (late.on) {
      late.ticks++;
      late.max = Math.max(late.max, d);
      if (d > 20) late.over20++;
    }
    tick();
  }, 5).unref();
};
tick();
/** GC pauses while the link runs: the longest, and how many took over 50 ms. */
const gc = { max: 0, over50: 0, total: 0, on: false };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!gc.on) continue;
    gc.max = Math.max(gc.max, e.duration);
    gc.total += e.duration;
    if (e.duration > 50) gc.over50++;
  }
}).observe({ entryTypes: ["gc"] });
let peakRss = 0;
let peakHeap = 0;
const pair = createPairSubsystem({ config, bus, clock: systemClock, log: nullLogger, services });
bus.on("pair.resync", (e) => out({ event: "resync", ...e }));
bus.on("pair.link_up", () => {
  loop.reset();
  loop.enable();
  gc.on = true;
  late.on = true;
  out({ event: "link_up", at: performance.now() });
});
await pair.start();
out({ event: "ready", before, filled });

const sample = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  out({ event: "sample", entries: backend.stick!.length, rssMB: +(m.rss / 2 ** 20).toFixed(1), heapMB: +(m.heapUsed / 2 ** 20).toFixed(1) });
}, 100);

process.stdin.setEncoding("utf8");
process.stdin.on("data", async (line: string) => {
  const cmd = line.trim();
  if (cmd.startsWith("churn ")) {
    // Live changes: N new clients, in bursts of 1000 every 10 ms (100 000 a second).
    const n = Number(cmd.split(" ")[1]);
    const lags: number[] = [];
    for (let i = 0; i < n; i += 1000) {
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        backend.stickStore({ srcAddress: key(count + j), srcPort: 1, dstAddress: "127.0.0.1", dstPort: 1, frontend: "web" }, backend.servers.get(servers[j % 3])!);
      }
      await new Promise((r) => setTimeout(r, 10));
      const l = services.pair!.status().replication.lagMs;
      if (l !== undefined) lags.push(l);
    }
    await new Promise((r) => setTimeout(r, 300));
    lags.sort((x, y) => x - y);
    out({ event: "churned", n, lagP50: lags[Math.floor(lags.length / 2)], lagP99: lags[Math.floor(lags.length * 0.99)], lagMax: lags.at(-1) });
  } else if (cmd === "stats") {
    loop.disable();
    out({ event: "stats", lateMaxMs: Math.round(late.max), lateOver20: late.over20, lateTicks: late.ticks, gcMaxMs: Math.round(gc.max), gcOver50: gc.over50, gcTotalMs: Math.round(gc.total), loopMaxMs: +(loop.max / 1e6).toFixed(1), loopP99Ms: +(loop.percentile(99) / 1e6).toFixed(1), peakRssMB: +(peakRss / 2 ** 20).toFixed(1), peakHeapMB: +(peakHeap / 2 ** 20).toFixed(1), entries: backend.stick!.length, replication: services.pair!.status().replication });
  } else if (cmd === "stop") {
    clearInterval(sample);
    await pair.stop("bench over");
    process.exit(0);
  }
});
