// Benchmark plumbing: start nginx backends, haproxy or tandem, run wrk, read RSS; always clean up.

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:net";
import type { Server } from "node:net";

export const dir = mkdtempSync(join(tmpdir(), "tandem-bench-"));
const children: ChildProcess[] = [];

/** n ports free on 127.0.0.1 now (fixed ones may be held by someone else's test servers). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Starts a long-running process; it is killed by cleanup(). */
export function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let err = "";
  child.stderr!.on("data", (d) => (err = (err + d).slice(-4000)));
  child.on("exit", (code, sig) => {
    if (code && code !== 0) process.stderr.write(`bench: ${cmd} exited ${code ?? sig}: ${err}\n`);
  });
  children.push(child);
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await done;
  clearTimeout(t);
}

export async function cleanup(): Promise<void> {
  for (const c of children) await stop(c);
  rmSync(dir, { recursive: true, force: true });
}

/** Resolves when host:port accepts a connection (or throws after ms). */
export async function waitPort(port: number, ms = 10_000, host = "127.0.0.1"): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** nginx on the given ports answering a small static body. */
export function startNginx(ports: number[]): ChildProcess {
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.err warn;
daemon off;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 1000000;
  ${ports.map((p) => `server { listen 127.0.0.1:${p} reuseport backlog=4096; location / { return 200 "hello from ${p}\\n"; } }`).join("\n  ")}
}
`);
  return start("nginx", ["-c", conf, "-p", dir]);
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

/** Runs wrk and parses req/s, p50, p99 and socket errors. */
export function wrk(url: string, connections: number, seconds: number, headers: string[] = []): WrkResult {
  const args = ["-t", "1", "-c", String(connections), "-d", `${seconds}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), url];
  const r = spawnSync("wrk", args, { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  const out = r.stdout ?? "";
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "");
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = (se ? se.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + non2xx;
  if (!Number.isFinite(rps)) throw new Error(`wrk failed: ${out}${r.stderr}`);
  return { rps, p50, p99, errors };
}

/** A /proc/PID/status field in MiB (VmRSS, RssAnon...). */
export function statusMiB(pid: number, field = "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident set size of pid in MiB. */
export function rssMiB(pid: number): number {
  return statusMiB(pid, "VmRSS");
}

/** Total of a status field over pid and its descendants (workers) in MiB. */
export function treeRssMiB(pid: number, field = "VmRSS"): number {
  const ps = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean).map(Number);
  return statusMiB(pid, field) + ps.reduce((n, p) => n + treeRssMiB(p, field), 0);
}

/** Opens n idle TCP connections to port; returns a closer. */
export async function idleConnections(port: number, n: number): Promise<() => void> {
  const sockets: ReturnType<typeof connect>[] = [];
  for (let i = 0; i < n; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => new Promise<void>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => resolve());
      s.on("error", () => resolve());
      sockets.push(s);
    })));
  }
  return () => sockets.forEach((s) => s.destroy());
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Writes body under heading in docs/performance.md between two markers, so that prose written
 * around the generated table in the same section stays. A section without the markers is
 * replaced whole; a missing one is appended.
 */
export function writeSection(file: string, heading: string, body: string): void {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Performance\n\nMeasured with `npm run bench -- <suite>` on the development machine (2 cores, noisy: medians of repeated runs). Ratios are tandem / the yardstick in the same run.\n";
  }
  const begin = "<!-- written by npm run bench: begin -->", end = "<!-- written by npm run bench: end -->";
  const generated = `${begin}\n${body.trim()}\n${end}`;
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${heading}\n\n${generated}\n`);
    return;
  }
  const nextHeading = text.indexOf("\n## ", start + heading.length + 1);
  const stop = nextHeading < 0 ? text.length : nextHeading;
  const b = text.indexOf(begin, start), e = text.indexOf(end, start);
  if (b >= 0 && e > b && e < stop) text = text.slice(0, b) + generated + text.slice(e + end.length);
  else text = text.slice(0, start) + `\n${heading}\n\n${generated}\n` + text.slice(stop);
  writeFileSync(file, text);
}
