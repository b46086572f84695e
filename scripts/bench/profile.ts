// `npm run bench -- profile [--mode tcp|http] [--runs N] [--duration S]`: what one request costs
// each proxy, same run: user and kernel µs of CPU (all its processes, /proc/<pid>/stat) and system
// calls (perf's syscall tracepoints, when perf is there) per request, for haproxy and tandem on
// each data path (`global.data_path: ffi` and `net`), with a new connection per request and with
// keep-alive. Writes the table under "## Per-request profile" in docs/performance.md.

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanup, dir, median, start, startNginx, stop, waitPort, wrk, writeSection } from "./lab.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PORT = 18680;
const BACKENDS = [19601, 19602];
const CALLS = ["accept4", "socket", "connect", "read", "recvfrom", "write", "sendto", "writev", "close", "shutdown", "setsockopt", "getsockopt", "epoll_ctl", "epoll_wait", "epoll_pwait"];

type Target = "haproxy" | "tandem ffi" | "tandem net";

function startTarget(target: Target, mode: string): ChildProcess {
  if (target === "haproxy") {
    const file = join(dir, "haproxy.cfg");
    writeFileSync(file, `global\n  maxconn 9500\n  nbthread 1\ndefaults\n  mode ${mode}\n${mode === "http" ? "  http-reuse safe\n" : ""}  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend f\n  bind 127.0.0.1:${PORT}\n  default_backend p\nbackend p\n  balance roundrobin\n${BACKENDS.map((p, i) => `  server s${i} 127.0.0.1:${p}\n`).join("")}`);
    return start("haproxy", ["-db", "-f", file]);
  }
  const file = join(dir, "tandem.yaml");
  const servers = BACKENDS.map((p, i) => `      s${i}: { address: 127.0.0.1, port: ${p} }`).join("\n");
  writeFileSync(file, `global: { maxconn: 9500, state_dir: ${dir}/state, data_path: ${target.slice(7)} }\ndefaults:\n  mode: ${mode}\n  timeout: { connect: 5s, client: 60s, server: 60s }\nfrontends:\n  f:\n    bind: 127.0.0.1:${PORT}\n    default_backend: p\nbackends:\n  p:\n    balance: roundrobin\n    servers:\n${servers}\n`);
  return start(join(root, "dist/tandem"), ["--config", file, "--role", "master", "--log-level", "warn"]);
}

/** User and kernel CPU ms of pid and its children. */
function cpuMs(pid: number): { user: number; kernel: number } {
  const kids = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean).map(Number);
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const own = { user: Number(f[11]) * 10, kernel: Number(f[12]) * 10 };
  return kids.map(cpuMs).reduce((a, b) => ({ user: a.user + b.user, kernel: a.kernel + b.kernel }), own);
}

const hasPerf = spawnSync("perf", ["--version"]).status === 0;

/** System calls of pid (all threads) while fn runs, by name; undefined without perf. */
async function countCalls(pid: number, fn: () => void): Promise<Record<string, number> | undefined> {
  if (!hasPerf) {
    fn();
    return undefined;
  }
  const events = ["raw_syscalls:sys_enter", ...CALLS.map((c) => `syscalls:sys_enter_${c}`)].join(",");
  const perf = spawn("perf", ["stat", "-x", ",", "-e", events, "-p", String(pid)], { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  perf.stderr!.on("data", (d) => (text += d));
  await new Promise((r) => setTimeout(r, 300));
  fn();
  perf.kill("SIGINT");
  await new Promise((r) => perf.once("exit", r));
  const out: Record<string, number> = {};
  for (const line of text.trim().split("\n")) {
    const [count, , event] = line.split(",");
    if (!event || !Number.isFinite(Number(count))) continue;
    out[event.endsWith("sys_enter") ? "all" : event.replace(/.*sys_enter_/, "")] = Number(count);
  }
  return out;
}

interface Sample {
  rps: number;
  user: number;
  kernel: number;
  calls?: Record<string, number>;
}

export async function main(_suite: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { mode: { type: "string", default: "tcp" }, runs: { type: "string", default: "3" }, duration: { type: "string", default: "5" } } });
  const mode = values.mode!, runs = Number(values.runs), seconds = Number(values.duration);
  const scenarios = [{ name: "new connection per request", headers: ["Connection: close"] }, { name: "keep-alive", headers: [] as string[] }];
  const samples = new Map<string, Sample[]>();
  const nginx = startNginx(BACKENDS);
  try {
    for (const p of BACKENDS) await waitPort(p);
    for (let run = 0; run < runs; run++) {
      for (const target of ["haproxy", "tandem ffi", "tandem net"] as Target[]) {
        const child = startTarget(target, mode);
        await waitPort(PORT);
        wrk(`http://127.0.0.1:${PORT}/`, 10, 1);
        for (const s of scenarios) {
          const url = `http://127.0.0.1:${PORT}/`;
          const before = cpuMs(child.pid!);
          const r = wrk(url, 50, seconds, s.headers);
          const after = cpuMs(child.pid!);
          const requests = r.rps * seconds;
          let calls: Record<string, number> | undefined;
          let counted = 0;
          const c = await countCalls(child.pid!, () => (counted = wrk(url, 50, 2, s.headers).rps * 2));
          if (c) calls = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v / counted]));
          const key = `${target}|${s.name}`;
          samples.set(key, [...(samples.get(key) ?? []), { rps: r.rps, user: ((after.user - before.user) * 1000) / requests, kernel: ((after.kernel - before.kernel) * 1000) / requests, calls }]);
          process.stdout.write(`run ${run + 1}/${runs} ${target.padEnd(10)} ${s.name}: ${r.rps.toFixed(0)} req/s, ${(((after.user - before.user) * 1000) / requests).toFixed(1)} µs user, ${(((after.kernel - before.kernel) * 1000) / requests).toFixed(1)} µs kernel per request\n`);
        }
        await stop(child);
      }
    }
  } finally {
    await stop(nginx);
    await cleanup();
  }
  const rows: string[] = [];
  for (const s of scenarios) {
    for (const target of ["haproxy", "tandem ffi", "tandem net"] as Target[]) {
      const xs = samples.get(`${target}|${s.name}`)!;
      const m = (f: (x: Sample) => number) => median(xs.map(f));
      const call = (name: string) => (xs[0].calls ? m((x) => x.calls?.[name] ?? 0).toFixed(2) : "–");
      const detail = xs[0].calls ? CALLS.filter((c) => m((x) => x.calls?.[c] ?? 0) >= 0.05).map((c) => `${c} ${call(c)}`).join(", ") : "perf not installed";
      rows.push(`| ${s.name} | ${target} | ${m((x) => x.rps).toFixed(0)} | ${m((x) => x.user).toFixed(1)} | ${m((x) => x.kernel).toFixed(1)} | ${m((x) => x.user + x.kernel).toFixed(1)} | ${call("all")} | ${detail} |`);
    }
  }
  const table = `Command: \`npm run bench -- profile --mode ${mode} --runs ${runs} --duration ${seconds}\` (${new Date().toISOString().slice(0, 10)}).
mode ${mode}, 1 worker, wrk with 50 connections, the same two nginx servers as above. CPU of the proxy's processes from
\`/proc/<pid>/stat\` over a ${seconds} s run; system calls from \`perf stat\` on the syscall tracepoints over a
second, 2 s run. Medians of ${runs} runs, per request (with \`Connection: close\`, a request is a connection).

| scenario | proxy | req/s | user µs | kernel µs | CPU µs | system calls | of which |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join("\n")}`;
  process.stdout.write("\n" + table + "\n");
  writeSection(join(root, "docs/performance.md"), `## Per-request profile (mode ${mode})`, table);
}
