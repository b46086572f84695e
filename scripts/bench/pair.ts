// `npm run bench -- pair [--entries N] [--churn N]`: stick-table replication over the pair link on
// loopback, two processes: the time and memory a full resync of N entries takes (sender and
// receiver), how long the event loop was held meanwhile, then the lag of live changes.

import { spawn, type ChildProcess } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NODE = join(root, "node_modules/.bin/node");

interface Host {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
}

function host(role: "master" | "backup", port: number, entries: number): Host {
  const proc = spawn(NODE, ["--expose-gc", "--max-old-space-size=4096", join(root, "scripts/bench/pair_host.ts"), role, String(port), String(entries)], { stdio: ["pipe", "pipe", "inherit"] });
  const h: Host = { proc, lines: [] };
  let partial = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const l of parts) if (l.startsWith("{")) h.lines.push(JSON.parse(l));
  });
  return h;
}

async function wait(h: Host, pred: (l: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
  const end = Date.now() + ms;
  for (;;) {
    const l = h.lines.find(pred);
    if (l) return l;
    if (Date.now() > end) throw new Error(`timeout waiting in ${h.proc.pid}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ask = (h: Host, cmd: string) => h.proc.stdin!.write(`${cmd}\n`);

export async function main(_which: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { entries: { type: "string", default: "1000000" }, churn: { type: "string", default: "100000" } } });
  const entries = Number(values.entries);
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const receiver = host("backup", port, 0);
  const ready = (l: Record<string, unknown>) => l.event === "ready";
  await wait(receiver, ready, 30_000);
  const sender = host("master", port, entries);
  const s0 = await wait(sender, ready, 120_000);
  const r0 = await wait(receiver, ready, 1000);
  const received = await wait(receiver, (l) => l.event === "resync" && l.direction === "received" && l.entries === entries, 600_000);
  const sent = await wait(sender, (l) => l.event === "resync" && l.direction === "sent", 60_000);
  ask(sender, "stats");
  ask(receiver, "stats");
  const ss = await wait(sender, (l) => l.event === "stats", 10_000);
  const rs = await wait(receiver, (l) => l.event === "stats", 10_000);
  ask(sender, `churn ${values.churn}`);
  const churn = await wait(sender, (l) => l.event === "churned", 120_000);
  ask(receiver, "stats");
  const rs2 = await wait(receiver, (l) => l.event === "stats" && l !== rs, 10_000);
  for (const h of [sender, receiver]) ask(h, "stop");
  const f = s0.filled as Record<string, number>;
  const b = s0.before as Record<string, number>;
  const rb = r0.before as Record<string, number>;
  const report = [
    `entries: ${entries}`,
    `sender:   table filled in ${f.ms} ms; heap ${b.heapMB} → ${f.heapMB} MB, RSS ${b.rssMB} → ${f.rssMB} MB before the link; peak during resync: heap ${ss.peakHeapMB} MB, RSS ${ss.peakRssMB} MB`,
    `          resync sent in ${sent.ms} ms; event loop: max ${ss.loopMaxMs} ms, p99 ${ss.loopP99Ms} ms, a 5 ms timer at most ${ss.lateMaxMs} ms late (${ss.lateOver20} of ${ss.lateTicks} over 20 ms); GC: longest ${ss.gcMaxMs} ms, ${ss.gcOver50} over 50 ms, ${ss.gcTotalMs} ms in all`,
    `receiver: all ${received.entries} entries in ${received.ms} ms (first batch to last); heap ${rb.heapMB} MB → peak ${rs.peakHeapMB} MB, RSS ${rb.rssMB} → peak ${rs.peakRssMB} MB; event loop: max ${rs.loopMaxMs} ms, p99 ${rs.loopP99Ms} ms, a 5 ms timer at most ${rs.lateMaxMs} ms late (${rs.lateOver20} of ${rs.lateTicks} over 20 ms); GC: longest ${rs.gcMaxMs} ms, ${rs.gcOver50} over 50 ms, ${rs.gcTotalMs} ms in all`,
    `live:     ${churn.n} new entries at 100 000/s: lag (change → peer's acknowledgement) p50 ${churn.lagP50} ms, p99 ${churn.lagP99} ms, max ${churn.lagMax} ms; receiver holds ${rs2.entries}`,
  ];
  process.stdout.write(report.join("\n") + "\n");
}
