// `npm run bench -- tcp|http`: req/s, p50/p99 and idle-connection RSS, tandem vs haproxy, same run.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { cleanup, dir, freePorts, idleConnections, median, start, startNginx, stop, treeRssMiB, waitPort, wrk, writeSection } from "./lab.ts";
import type { WrkResult } from "./lab.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
// Free ports picked at start: fixed ones may be held by someone else's test servers.
let BACKENDS = [19001, 19002];
let PORT = 18080;

const RULES = 10;

/** "node": the plain node:net proxy of node_floor.ts / node_floor_http.ts: what the runtime alone costs. */
type Target = "haproxy" | "tandem" | "node";

function haproxyConfig(mode: "tcp" | "http", workers: number): string {
  const routing = mode === "http"
    ? [
      ...Array.from({ length: RULES }, (_, i) => `  acl r${i} path_beg /route${i}/`),
      ...Array.from({ length: RULES }, (_, i) => `  use_backend other if r${i}`),
      "  default_backend pool",
    ].join("\n")
    : "  default_backend pool";
  return `global
  maxconn 9500
  nbthread ${workers}
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  ${mode === "http" ? "http-reuse safe" : ""}
frontend bench
  bind 127.0.0.1:${PORT}
${routing}
backend pool
  balance roundrobin
${BACKENDS.map((p, i) => `  server s${i} 127.0.0.1:${p}`).join("\n")}
backend other
  server o 127.0.0.1:${BACKENDS[0]}
`;
}

function tandemConfig(mode: "tcp" | "http", workers: number, dataPath: string): string {
  const acls = mode === "http"
    ? `    acls:\n${Array.from({ length: RULES }, (_, i) => `      r${i}: { path_prefix: /route${i}/ }`).join("\n")}\n    use_backend:\n${Array.from({ length: RULES }, (_, i) => `      - { backend: other, if: r${i} }`).join("\n")}\n`
    : "";
  return `global: { maxconn: 9500, workers: ${workers}, data_path: ${dataPath}, state_dir: ${dir}/state }
defaults:
  mode: ${mode}
  timeout: { connect: 5s, client: 60s, server: 60s }
frontends:
  bench:
    bind: 127.0.0.1:${PORT}
${acls}    default_backend: pool
backends:
  pool:
    balance: roundrobin
    servers:
${BACKENDS.map((p, i) => `      s${i}: { address: 127.0.0.1, port: ${p} }`).join("\n")}
  other:
    servers:
      o: { address: 127.0.0.1, port: ${BACKENDS[0]} }
`;
}

async function startTarget(target: Target, mode: "tcp" | "http", workers: number, dataPath: string): Promise<ChildProcess> {
  let child: ChildProcess;
  if (target === "node") {
    const script = mode === "tcp" ? "node_floor.ts" : "node_floor_http.ts";
    child = start(process.execPath, [join(root, "scripts/bench", script), String(PORT), ...BACKENDS.map(String)]);
  } else if (target === "haproxy") {
    const file = join(dir, "haproxy.cfg");
    writeFileSync(file, haproxyConfig(mode, workers));
    child = start("haproxy", ["-db", "-f", file]);
  } else {
    const file = join(dir, "tandem.yaml");
    writeFileSync(file, tandemConfig(mode, workers, dataPath));
    child = start(join(root, "dist/tandem"), ["--config", file, "--role", "master", "--log-level", "warn"]);
  }
  await waitPort(PORT);
  return child;
}

interface Scenario {
  name: string;
  connections: number;
  headers: string[];
}

const SCENARIOS: Scenario[] = [
  { name: "keep-alive, 50 conns", connections: 50, headers: [] },
  { name: "keep-alive, 500 conns", connections: 500, headers: [] },
  { name: "new conn per request (Connection: close), 50 conns", connections: 50, headers: ["Connection: close"] },
];

export async function main(mode: "tcp" | "http", argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string", default: "3" }, duration: { type: "string", default: "8" }, workers: { type: "string", default: "1" }, idle: { type: "string", default: "9000" }, floor: { type: "boolean", default: true }, "data-path": { type: "string", default: "auto" }, write: { type: "boolean", default: true } }, allowNegative: true });
  const runs = Number(values.runs);
  const seconds = Number(values.duration);
  const workers = Number(values.workers);
  const idle = Number(values.idle);
  const results = new Map<string, WrkResult[]>();
  const rss = new Map<Target, number[]>();
  const anon = new Map<Target, number[]>();
  [PORT, ...BACKENDS] = await freePorts(3);
  const nginx = startNginx(BACKENDS);
  try {
    for (const p of BACKENDS) await waitPort(p);
    for (let run = 0; run < runs; run++) {
      const order: Target[] = run % 2 === 0 ? ["haproxy", "tandem"] : ["tandem", "haproxy"];
      if (values.floor) order.push("node");
      for (const target of order) {
        const child = await startTarget(target, mode, workers, values["data-path"]);
        wrk(`http://127.0.0.1:${PORT}/`, 10, 1); // warm-up
        for (const s of SCENARIOS) {
          const r = wrk(`http://127.0.0.1:${PORT}/`, s.connections, seconds, s.headers);
          const key = `${target}|${s.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          process.stdout.write(`run ${run + 1}/${runs} ${target.padEnd(7)} ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}\n`);
        }
        if (run === 0 && target !== "node") {
          const close = await idleConnections(PORT, idle);
          await new Promise((r) => setTimeout(r, 1000));
          const mib = treeRssMiB(child.pid!);
          const anonMib = treeRssMiB(child.pid!, "RssAnon");
          rss.set(target, [...(rss.get(target) ?? []), mib]);
          anon.set(target, [...(anon.get(target) ?? []), anonMib]);
          process.stdout.write(`         ${target.padEnd(7)} RSS with ${idle} idle connections: ${mib.toFixed(1)} MiB (anonymous ${anonMib.toFixed(1)} MiB)\n`);
          close();
        }
        await stop(child);
      }
    }
  } finally {
    await stop(nginx);
    await cleanup();
  }
  const rows: string[] = [];
  for (const s of SCENARIOS) {
    const h = results.get(`haproxy|${s.name}`)!;
    const t = results.get(`tandem|${s.name}`)!;
    const m = (xs: WrkResult[], f: (r: WrkResult) => number) => median(xs.map(f));
    const hr = m(h, (r) => r.rps), tr = m(t, (r) => r.rps);
    const h50 = m(h, (r) => r.p50), t50 = m(t, (r) => r.p50);
    const h99 = m(h, (r) => r.p99), t99 = m(t, (r) => r.p99);
    const errs = t.reduce((n, r) => n + r.errors, 0);
    // Run by run (haproxy and tandem ran back to back): how much of the ratio is the machine's noise.
    const perRun = t.map((r, i) => (r.rps / h[i].rps).toFixed(2)).join(", ");
    rows.push(`| ${s.name} | ${hr.toFixed(0)} | ${tr.toFixed(0)} | **${(tr / hr).toFixed(2)}×** | ${perRun} | ${h50.toFixed(2)} / ${t50.toFixed(2)} | ${h99.toFixed(2)} / ${t99.toFixed(2)} | **${(t99 / h99).toFixed(2)}×** | ${errs} |`);
  }
  const floorRows: string[] = [];
  for (const s of SCENARIOS) {
    const n = results.get(`node|${s.name}`);
    if (!n) continue;
    const m = (t: Target, f: (r: WrkResult) => number) => median(results.get(`${t}|${s.name}`)!.map(f));
    const nr = m("node", (r) => r.rps), n99 = m("node", (r) => r.p99);
    const t = results.get(`tandem|${s.name}`)!;
    const perRun = n.map((r, i) => (t[i].rps / r.rps).toFixed(2)).join(", ");
    floorRows.push(`| ${s.name} | ${nr.toFixed(0)} | **${(nr / m("haproxy", (r) => r.rps)).toFixed(2)}×** | ${n99.toFixed(2)} | **${(n99 / m("haproxy", (r) => r.p99)).toFixed(2)}×** | ${(m("tandem", (r) => r.rps) / nr).toFixed(2)}× | ${perRun} |`);
  }
  const floor = floorRows.length === 0 ? "" : `

The runtime's own floor, same run: ${mode === "tcp"
    ? "a plain \`node:net\` proxy on the same Node (accept, connect round-robin, \`pipe\` both ways: \`scripts/bench/node_floor.ts\`)"
    : "a plain \`node:net\` HTTP relay on the same Node (request heads found by their blank line and sent over pooled keep-alive server connections, responses relayed by Content-Length: \`scripts/bench/node_floor_http.ts\`; no routing rules)"}, with no health checks, limits, logs or parsing beyond that.

| scenario | plain Node proxy req/s | req/s vs haproxy | p99 ms | p99 vs haproxy | tandem req/s vs plain Node | in each run |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${floorRows.join("\n")}`;
  const hr = median(rss.get("haproxy") ?? [NaN]), tr = median(rss.get("tandem") ?? [NaN]);
  const ha = median(anon.get("haproxy") ?? [NaN]), ta = median(anon.get("tandem") ?? [NaN]);
  const table = `Command: \`npm run bench -- ${mode} --runs ${runs} --duration ${seconds} --workers ${workers}${values["data-path"] === "auto" ? "" : ` --data-path ${values["data-path"]}`}\` (${new Date().toISOString().slice(0, 10)}).
Both proxies in \`mode ${mode}\`${mode === "http" ? ` with ${RULES} path routing rules before the default backend` : ""}, ${workers} worker(s), in front of the same two nginx
servers (one worker, static 200), loaded by one wrk thread on the same 2-core machine. Medians of ${runs} runs
of ${seconds} s each, the order of haproxy and tandem alternating between runs; the ratio column is
median tandem / median haproxy, the next one each run's tandem / haproxy.

| scenario | haproxy req/s | tandem req/s | req/s ratio | ratio in each run | p50 ms (haproxy / tandem) | p99 ms (haproxy / tandem) | p99 ratio | tandem errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}${floor}

RSS with ${idle} idle client connections (proxy and its workers; 9,000 rather than 10,000 because this machine's hard file limit is 20,000 and each proxied connection holds two descriptors): haproxy ${hr.toFixed(1)} MiB, tandem ${tr.toFixed(1)} MiB (**${(tr / hr).toFixed(2)}×**). Of that, anonymous memory (heap, buffers; RSS without the mapped executable, whose pages the worker processes share): haproxy ${ha.toFixed(1)} MiB, tandem ${ta.toFixed(1)} MiB (**${(ta / ha).toFixed(2)}×**).`;
  process.stdout.write("\n" + table + "\n");
  if (values.write) writeSection(join(root, "docs/performance.md"), mode === "tcp" ? "## TCP proxy (mode tcp)" : "## HTTP proxy (mode http)", table);
}
