// `npm run bench -- tls`: HTTPS keep-alive, new TLS handshakes (ECDSA P-256) and HTTP/2, tandem vs haproxy, same run.

import { parseArgs } from "node:util";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { cleanup, dir, freePorts, median, start, startNginx, stop, waitPort, wrk, writeSection } from "./lab.ts";
import type { WrkResult } from "./lab.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let BACKENDS = [19001, 19002];
let PORT = 18443;

type Target = "haproxy" | "tandem";

/** One self-signed ECDSA P-256 certificate (cert + key in one PEM) that both proxies serve. */
function certificate(): string {
  const key = join(dir, "bench.key");
  const crt = join(dir, "bench.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=bench.test", "-addext", "subjectAltName=DNS:bench.test"], { stdio: "ignore" });
  const pem = join(dir, "bench.pem");
  writeFileSync(pem, readFileSync(crt, "utf8") + readFileSync(key, "utf8"));
  return pem;
}

function haproxyConfig(pem: string): string {
  return `global
  maxconn 9500
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse safe
frontend bench
  bind 127.0.0.1:${PORT} ssl crt ${pem} alpn h2,http/1.1
  default_backend pool
backend pool
  balance roundrobin
${BACKENDS.map((p, i) => `  server s${i} 127.0.0.1:${p}`).join("\n")}
`;
}

function tandemConfig(pem: string): string {
  return `global: { maxconn: 9500, workers: 1, state_dir: ${dir}/state }
defaults:
  mode: http
  timeout: { connect: 5s, client: 60s, server: 60s }
frontends:
  bench:
    bind: { address: "127.0.0.1:${PORT}", tls: { crt: ${pem}, alpn: [h2, http/1.1] } }
    default_backend: pool
backends:
  pool:
    balance: roundrobin
    servers:
${BACKENDS.map((p, i) => `      s${i}: { address: 127.0.0.1, port: ${p} }`).join("\n")}
`;
}

async function startTarget(target: Target, pem: string): Promise<ChildProcess> {
  let child: ChildProcess;
  if (target === "haproxy") {
    const file = join(dir, "haproxy.cfg");
    writeFileSync(file, haproxyConfig(pem));
    child = start("haproxy", ["-db", "-f", file]);
  } else {
    const file = join(dir, "tandem.yaml");
    writeFileSync(file, tandemConfig(pem));
    child = start(join(root, "dist/tandem"), ["--config", file, "--role", "master", "--log-level", "warn"]);
  }
  await waitPort(PORT);
  return child;
}

/** h2load over TLS for `seconds`: req/s from its summary, p50/p99 from its per-request log. */
function h2load(url: string, clients: number, streams: number, seconds: number): WrkResult {
  const log = join(dir, "h2load.log");
  writeFileSync(log, "");
  const r = spawnSync("h2load", ["-c", String(clients), "-m", String(streams), "-D", String(seconds), "--warm-up-time", "1", `--log-file=${log}`, url], { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  const out = r.stdout ?? "";
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const failed = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored/.exec(out);
  if (!Number.isFinite(rps)) throw new Error(`h2load failed: ${out}${r.stderr}`);
  // Each line: start time (µs since epoch), status, duration (µs).
  const durations = readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => Number(l.split("\t")[2]) / 1000).sort((a, b) => a - b);
  const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? NaN;
  return { rps, p50: at(0.5), p99: at(0.99), errors: failed ? Number(failed[1]) + Number(failed[2]) : 0 };
}

interface Scenario {
  name: string;
  run(): WrkResult;
}

export async function main(_suite: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string", default: "3" }, duration: { type: "string", default: "8" } } });
  const runs = Number(values.runs);
  const seconds = Number(values.duration);
  [PORT, ...BACKENDS] = await freePorts(3);
  const url = `https://127.0.0.1:${PORT}/`;
  const scenarios: Scenario[] = [
    { name: "HTTPS keep-alive, 50 conns (wrk)", run: () => wrk(url, 50, seconds) },
    { name: "new TLS connection per request, ECDSA P-256, 50 conns (wrk, Connection: close)", run: () => wrk(url, 50, seconds, ["Connection: close"]) },
    { name: "HTTP/2, 10 conns × 10 streams (h2load)", run: () => h2load(url, 10, 10, seconds) },
  ];
  const pem = certificate();
  const results = new Map<string, WrkResult[]>();
  const nginx = startNginx(BACKENDS);
  try {
    for (const p of BACKENDS) await waitPort(p);
    for (let run = 0; run < runs; run++) {
      const order: Target[] = run % 2 === 0 ? ["haproxy", "tandem"] : ["tandem", "haproxy"];
      for (const target of order) {
        const child = await startTarget(target, pem);
        wrk(url, 10, 1); // warm-up
        for (const s of scenarios) {
          const r = s.run();
          const key = `${target}|${s.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          process.stdout.write(`run ${run + 1}/${runs} ${target.padEnd(7)} ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}\n`);
        }
        await stop(child);
      }
    }
  } finally {
    await stop(nginx);
    await cleanup();
  }
  const rows = scenarios.map((s) => {
    const h = results.get(`haproxy|${s.name}`)!;
    const t = results.get(`tandem|${s.name}`)!;
    const m = (xs: WrkResult[], f: (r: WrkResult) => number) => median(xs.map(f));
    const hr = m(h, (r) => r.rps), tr = m(t, (r) => r.rps);
    const h99 = m(h, (r) => r.p99), t99 = m(t, (r) => r.p99);
    const perRun = t.map((r, i) => (r.rps / h[i].rps).toFixed(2)).join(", ");
    return `| ${s.name} | ${hr.toFixed(0)} | ${tr.toFixed(0)} | **${(tr / hr).toFixed(2)}×** | ${perRun} | ${m(h, (r) => r.p50).toFixed(2)} / ${m(t, (r) => r.p50).toFixed(2)} | ${h99.toFixed(2)} / ${t99.toFixed(2)} | **${(t99 / h99).toFixed(2)}×** | ${t.reduce((n, r) => n + r.errors, 0)} |`;
  });
  const table = `Command: \`npm run bench -- tls --runs ${runs} --duration ${seconds}\` (${new Date().toISOString().slice(0, 10)}).
Both proxies in mode http with one worker/thread, terminating TLS with the same self-signed ECDSA P-256
certificate (TLS 1.3 as negotiated by the clients, ALPN h2 and http/1.1), in front of the same two nginx
servers; loaded by one wrk thread or h2load on the same 2-core machine, which other work shares: the
numbers are indicative. Medians of ${runs} runs of ${seconds} s each, the order of haproxy and tandem
alternating; the ratio column is median tandem / median haproxy, the next one each run's ratio.
wrk makes a full handshake per new connection (no session resumption).

| scenario | haproxy req/s | tandem req/s | req/s ratio | ratio in each run | p50 ms (haproxy / tandem) | p99 ms (haproxy / tandem) | p99 ratio | tandem errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
  process.stdout.write("\n" + table + "\n");
  writeSection(join(root, "docs/performance.md"), "## TLS termination and HTTP/2", table);
}
