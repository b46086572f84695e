// `npm run bench -- scale`: active/active scale-out through BGP and ECMP in the namespace lab of
// test/integration/bgp_lab.ts: req/s through 1, 2 and 3 tandem nodes behind the router, how long
// the router keeps a dead or leaving node, and what a node leaving or joining does to open flows.

import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { BgpLab, HOLD, NODES, ROUTER_AS, NODE_AS, VIP, wall, type NodeName, type RouterKind } from "../../test/integration/bgp_lab.ts";
import { NODE, type LabProcess } from "../../test/integration/vrrp_lab.ts";
import { median, writeSection, type WrkResult } from "./lab.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CORES = availableParallelism();

/** The file every node runs: product defaults for BGP, a tcp proxy in front of the node's nginx. */
function yaml(): string {
  return `global: { state_dir: state, grace_period: 5s }
proxies:
  web:
    mode: tcp
    bind: "${VIP}:80"
    servers: { nginx: { address: 127.0.0.1, port: 8081, check: { interval: 500ms } } }
bgp:
  local_as: ${NODE_AS}
  peers: [{ address: 192.0.2.1, as: ${ROUTER_AS} }]
  announce: [${VIP}/32]
`;
}

function nginxConf(dir: string, name: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.err warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:8081 backlog=4096; location / { return 200 "${name}\\n"; } }
}
`;
}

/** Pins a process and its threads to one core. */
function pin(pid: number, core: number): void {
  spawnSync("taskset", ["-a", "-cp", String(core), String(pid)], { stdio: "ignore" });
}

/** wrk from the client namespace (the lab's wrk has no -t beyond one here: the machine is small). */
function wrk(lab: BgpLab, connections: number, seconds: number, headers: string[]): WrkResult {
  const args = ["netns", "exec", lab.lab.ns("client"), "wrk", "-t", "1", "-c", String(connections), "-d", `${seconds}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), `http://${VIP}/`];
  const out = spawnSync("ip", args, { encoding: "utf8", timeout: (seconds + 30) * 1000 }).stdout ?? "";
  const ms = (t: string) => {
    const m = /^([\d.]+)(us|ms|s)$/.exec(t.trim());
    return m ? Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1) : NaN;
  };
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  if (!Number.isFinite(rps)) throw new Error(`wrk failed: ${out}`);
  return { rps, p50: ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? ""), p99: ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? ""), errors: (se ? se.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + non2xx };
}

const SCENARIOS = [
  { name: "keep-alive, 50 conns", connections: 50, headers: [] as string[] },
  { name: "new conn per request, 50 conns", connections: 50, headers: ["Connection: close"] },
];

class Bench {
  readonly lab: BgpLab;
  nginx = new Map<NodeName, LabProcess>();

  constructor(kind: RouterKind) {
    this.lab = new BgpLab(kind);
  }

  async setup(): Promise<void> {
    await this.lab.startRouter();
    this.lab.writeConfig("", yaml());
    for (const [i, n] of NODES.entries()) {
      const dir = join(this.lab.lab.dir, n);
      writeFileSync(join(dir, "nginx.conf"), nginxConf(dir, n));
      const p = this.lab.lab.spawn(n, ["nginx", "-c", join(dir, "nginx.conf"), "-p", dir]);
      this.nginx.set(n, p);
      await new Promise((r) => setTimeout(r, 300));
      for (const pid of this.#tree(p.child.pid!)) pin(pid, i % CORES);
    }
  }

  /** pid and its descendants (nginx's worker). */
  #tree(pid: number): number[] {
    const kids = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).stdout.split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...kids.flatMap((k) => this.#tree(k))];
  }

  running(n: NodeName): boolean {
    const p = this.lab.nodes.get(n);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** Starts n unless it runs. */
  async start(n: NodeName): Promise<void> {
    if (this.running(n)) return;
    const p = await this.lab.startNode(n);
    pin(p.child.pid!, NODES.indexOf(n) % CORES);
  }

  async stop(n: NodeName, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const p = this.lab.nodes.get(n);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(signal);
    await p.exited;
  }

  /** Waits until exactly `up` are the router's next hops; throws after ms. */
  async paths(up: readonly NodeName[], ms = 15_000): Promise<number> {
    const t = await this.lab.waitPaths(up, ms);
    if (t < 0) throw new Error(`router paths ${this.lab.paths().join(", ")}, expected ${up.join(", ")}`);
    return t;
  }

  /** From the signal to the router's table without n, and to n's exit. */
  async withdrawal(n: NodeName, signal: NodeJS.Signals): Promise<{ removed: number; exited?: number }> {
    const p = this.lab.nodes.get(n)!;
    const rest = NODES.filter((x) => x !== n && this.running(x));
    const t0 = wall();
    process.kill(p.child.pid!, signal);
    const removed = await this.paths(rest, HOLD * 1000 + 5000);
    let exited: number | undefined;
    if (signal === "SIGSTOP") process.kill(p.child.pid!, "SIGKILL");
    else {
      await p.exited;
      exited = wall() - t0;
    }
    await p.exited;
    return { removed, exited };
  }

  /** Open flows, a change of the node set, and how many flows broke (per node they were on). */
  async flows(n: number, label: string, change: () => Promise<void>): Promise<Record<string, unknown>> {
    const client = this.lab.lab.spawn("client", [NODE, "--no-warnings", join(root, "scripts/bench/scale_flows.ts"), VIP, "80", String(n)]);
    const ready = await this.#line(client, /"ready"/);
    await change();
    client.child.kill("SIGUSR2");
    const result = await this.#line(client, /"probe"/);
    client.child.kill("SIGTERM");
    return { label, ...JSON.parse(ready), ...JSON.parse(result) };
  }

  async #line(p: LabProcess, re: RegExp): Promise<string> {
    const end = performance.now() + 30_000;
    while (performance.now() < end) {
      const l = p.lines.find((x) => re.test(x));
      if (l) {
        p.lines.splice(p.lines.indexOf(l), 1);
        return l;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${re} from the flow client:\n${p.output()}`);
  }
}

/** Entry point called by scripts/bench.ts. */
export async function main(_which: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string", default: "3" }, duration: { type: "string", default: "6" }, router: { type: "string", default: "bird" }, withdrawals: { type: "string", default: "5" }, flows: { type: "string", default: "300" }, "no-write": { type: "boolean", default: false } } });
  const runs = Number(values.runs), seconds = Number(values.duration), rounds = Number(values.withdrawals), nflows = Number(values.flows);
  const kind = values.router === "frr" ? "frr" : "bird";
  const b = new Bench(kind);
  const onSignal = () => void b.lab.destroy().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  const rps = new Map<string, WrkResult[]>();
  const times = new Map<string, number[]>();
  const flowRows: string[] = [];
  try {
    await b.setup();
    // 1. Throughput through 1, 2, 3 nodes (each pinned to core i mod CPUs, with its nginx).
    for (let run = 0; run < runs; run++) {
      for (const count of [1, 2, 3]) {
        const up = NODES.slice(0, count);
        for (const n of NODES) if (!up.includes(n)) await b.stop(n);
        for (const n of up) await b.start(n);
        await b.paths(up);
        wrk(b.lab, 10, 1, []); // warm-up
        for (const s of SCENARIOS) {
          const r = wrk(b.lab, s.connections, seconds, s.headers);
          rps.set(`${count}|${s.name}`, [...(rps.get(`${count}|${s.name}`) ?? []), r]);
          process.stdout.write(`run ${run + 1}/${runs} ${count} node(s) ${s.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}\n`);
        }
      }
    }
    // 2. Withdrawal: kill -9, SIGTERM, and a frozen process (SIGSTOP: the hold timer's case).
    for (let i = 0; i < rounds; i++) {
      for (const [label, signal] of [["kill -9", "SIGKILL"], ["SIGTERM", "SIGTERM"], ["frozen (SIGSTOP)", "SIGSTOP"]] as const) {
        await b.start("n3");
        await b.paths(NODES);
        await new Promise((r) => setTimeout(r, 200 + Math.random() * 1000));
        const w = await b.withdrawal("n3", signal);
        times.set(label, [...(times.get(label) ?? []), w.removed]);
        if (w.exited !== undefined) times.set(`${label} exit`, [...(times.get(`${label} exit`) ?? []), w.exited]);
        process.stdout.write(`withdrawal ${i + 1}/${rounds} ${label}: off the router after ${w.removed.toFixed(0)} ms${w.exited !== undefined ? `, exited after ${w.exited.toFixed(0)} ms` : ""}\n`);
      }
    }
    // 3. Flows across a change of the node set.
    const row = (r: Record<string, unknown>, what: string) => {
      const by = r.byNode as Record<string, number>, broken = r.brokenByNode as Record<string, number>;
      const per = Object.keys(by).sort().map((n) => `${n} ${broken[n] ?? 0}/${by[n]}`).join(", ");
      const line = `| ${what} | ${r.probed} | ${r.broken} (${((100 * Number(r.broken)) / Number(r.probed)).toFixed(0)} %) | ${per} |`;
      process.stdout.write(`flows: ${line}\n`);
      flowRows.push(line);
    };
    await b.start("n3");
    await b.paths(NODES);
    row(await b.flows(nflows, "leave", async () => {
      await b.withdrawal("n3", "SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
    }), "n3 leaves (SIGTERM: withdraw, then drain)");
    row(await b.flows(nflows, "join", async () => {
      await b.start("n3");
      await b.paths(NODES);
      await new Promise((r) => setTimeout(r, 500));
    }), "n3 joins (announced after announce_delay)");
    row(await b.flows(nflows, "kill", async () => {
      await b.withdrawal("n3", "SIGKILL");
      await new Promise((r) => setTimeout(r, 500));
    }), "n3 dies (kill -9)");
    row(await b.flows(nflows, "nochange", async () => {
      await new Promise((r) => setTimeout(r, 1000));
    }), "no change (control)");
  } finally {
    process.off("SIGINT", onSignal);
    await b.lab.destroy();
  }

  const rpsRows = SCENARIOS.map((s) => {
    const m = (c: number) => median((rps.get(`${c}|${s.name}`) ?? []).map((r) => r.rps));
    const p = (c: number) => median((rps.get(`${c}|${s.name}`) ?? []).map((r) => r.p99));
    const errs = [1, 2, 3].map((c) => (rps.get(`${c}|${s.name}`) ?? []).reduce((n, r) => n + r.errors, 0)).join(" / ");
    return `| ${s.name} | ${m(1).toFixed(0)} | ${m(2).toFixed(0)} (${(m(2) / m(1)).toFixed(2)}×) | ${m(3).toFixed(0)} (${(m(3) / m(1)).toFixed(2)}×) | ${p(1).toFixed(2)} / ${p(2).toFixed(2)} / ${p(3).toFixed(2)} | ${errs} |`;
  });
  const q = (xs: number[] | undefined, f: number) => (xs?.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(f * xs.length) - 1)].toFixed(0) : "–");
  const wRows = ["kill -9", "SIGTERM", "frozen (SIGSTOP)"].map((l) => `| ${l} | ${q(times.get(l), 0.5)} | ${q(times.get(l), 1)} | ${times.has(`${l} exit`) ? q(times.get(`${l} exit`), 0.5) : "–"} |`);
  const table = `Command: \`npm run bench -- scale --runs ${runs} --duration ${seconds} --router ${kind} --withdrawals ${rounds} --flows ${nflows}\` (${new Date().toISOString().slice(0, 10)}).
The BGP lab of \`test/integration/bgp_lab.ts\`: a router namespace running ${kind === "bird" ? "BIRD 2" : "FRR"} with ECMP over every
path (\`net.ipv4.fib_multipath_hash_policy=1\`: the 5-tuple picks the node), three nodes each running the built
binary (\`mode tcp\`, product BGP defaults: hold time ${HOLD} s, announce_delay 2 s, withdraw_wait 2 s) in front of
its own nginx (one worker, static 200), and wrk (one thread) in a client namespace behind the router.
Node *i* and its nginx are pinned to core *i* mod ${CORES}: this machine has ${CORES} cores, shared with wrk and with
other work, so **the numbers are indicative**: three nodes cannot have a core each here. Medians of ${runs} runs of ${seconds} s.

| scenario | 1 node req/s | 2 nodes req/s | 3 nodes req/s | p99 ms (1 / 2 / 3) | errors (1 / 2 / 3) |
| --- | ---: | ---: | ---: | ---: | ---: |
${rpsRows.join("\n")}

Withdrawal: from the signal to node n3 until the router's kernel table no longer routes to it (polled
every 10 ms), ${rounds} rounds each, n3 signalled at a random moment. kill -9 closes the process's TCP
session at once (the kernel sends the FIN), so the router drops it without waiting for the hold time;
a frozen process (SIGSTOP: the host hangs, or the link is lost) is found by the router's hold timer
(${HOLD} s after the last keepalive). SIGTERM runs the planned leave: withdraw, serve withdraw_wait more, drain.

| node | off the router, median ms | worst ms | process exit, median ms |
| --- | ---: | ---: | ---: |
${wRows.join("\n")}

Flows across a change of the node set: ${nflows} keep-alive connections opened through the router, then
the change, then one more request on each (a flow the router now hashes to another node is reset there).

| change | flows probed | broken | broken / open, by the node they were on |
| --- | ---: | ---: | --- |
${flowRows.join("\n")}`;
  process.stdout.write("\n" + table + "\n");
  if (!values["no-write"]) writeSection(join(root, "docs/performance.md"), "## Scale-out: BGP and ECMP", table);
}
