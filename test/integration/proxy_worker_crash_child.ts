// Runs inside a fresh network namespace (see proxy_worker_crash_test.ts): dist/tandem with
// global.workers: 2 under new-connection-per-request load, kill -9 of its worker; prints one JSON line.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TandemProcess } from "../helpers/binary.ts";
import { accepting, freePort, listen } from "../helpers/net.ts";

/** Pids of the processes whose parent is pid. */
const children = (pid: number) =>
  spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout.split("\n").map((l) => Number(l.trim())).filter((n) => n > 0);

const sysctl = () => readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "latin1").trim();

/** One GET on a new connection: "ok", or what went wrong. */
function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve(res.statusCode === 200 && body === "ok" ? "ok" : `status ${res.statusCode}`));
      res.on("error", (err) => resolve(err.message));
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });
}

const clients = Number(process.argv[2] ?? 16);
const sysctlBefore = sysctl();
const backend = createServer((_req, res) => res.end("ok"));
const bport = await freePort();
await listen(backend, bport);
const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), "tandem-crash-"));
writeFileSync(join(dir, "t.yaml"), `global: { workers: 2, state_dir: ${dir}/state, grace_period: 1s }
frontends:
  web: { bind: 127.0.0.1:${port}, default_backend: b }
backends:
  b: { servers: { s1: { address: 127.0.0.1, port: ${bport} } } }
`);
const tandem = new TandemProcess(["--config", join(dir, "t.yaml"), "--role", "master"]);
const out: Record<string, unknown> = { clients, sysctlBefore };
try {
  await tandem.waitFor(/tandem started/);
  await accepting(port);
  const [worker] = children(tandem.child.pid!);
  out.worker = worker;
  out.sysctlAfter = sysctl();
  const outcomes: { after: boolean; result: string }[] = [];
  let killed = false;
  let running = true;
  // New connections all the time: the kernel spreads them over both processes' listeners.
  const client = async () => {
    while (running) {
      const result = await get(port);
      outcomes.push({ after: killed, result }); // in flight at the kill counts as after
    }
  };
  const load = Array.from({ length: clients }, client);
  await new Promise((r) => setTimeout(r, 1500));
  const mark = tandem.stderr.length;
  process.kill(worker, "SIGKILL");
  killed = true;
  const t0 = Date.now();
  try {
    await tandem.waitFor(/Proxy worker 1 started again/, 10_000, mark);
    out.restartedMs = Date.now() - t0;
  } catch {
    out.restartedMs = -1;
  }
  await new Promise((r) => setTimeout(r, 1500));
  running = false;
  await Promise.all(load);
  out.requests = outcomes.length;
  out.failedBefore = outcomes.filter((o) => !o.after && o.result !== "ok").map((o) => o.result);
  out.failedAfter = outcomes.filter((o) => o.after && o.result !== "ok").map((o) => o.result);
  out.log = tandem.stderr.slice(mark);
  out.workersNow = children(tandem.child.pid!);
  out.mainRunning = tandem.child.exitCode === null;
} catch (err) {
  out.error = (err as Error).stack;
  out.log = tandem.stderr;
} finally {
  await tandem.stop();
  await new Promise((r) => backend.close(r));
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
