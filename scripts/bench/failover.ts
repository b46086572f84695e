// `npm run bench -- failover`: VRRP failover time seen by a client, tandem against keepalived,
// after kill -9 and SIGTERM of the master, in the same namespace lab with the same settings:
// one IPv4 instance, one IPv6 instance, and two instances held by the same master.

import { execFileSync, spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Lab, NODE, waitFor, type LbProcess, type LabProcess } from "../../test/integration/vrrp_lab.ts";
import { cleanup, writeSection } from "./lab.ts";
import { expected, PRIORITY, SCENARIOS, type Scenario, type Settings } from "./failover_scenarios.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = 7000;

type Impl = "tandem" | "keepalived";
type Mode = "kill -9" | "SIGTERM";
const MODES: Mode[] = ["kill -9", "SIGTERM"];

/** pids of a process's children (keepalived's VRRP child). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch { /* gone */ }
}

/** A probe's answers: "<wall ms> <host>" lines, one per change of the answering host. */
function answers(probe: LabProcess): { t: number; host: string }[] {
  return probe.lines.map((l) => {
    const [t, host] = l.split(" ");
    return { t: Number(t), host };
  });
}

/** One run of the lab for one implementation and scenario: start, fail over, restart. */
class Pair {
  readonly lab: Lab;
  readonly impl: Impl;
  readonly s: Settings;
  readonly sc: Scenario;
  /** One probe per VIP of the scenario, in its order. */
  readonly probes: LabProcess[];
  /** tcpdump of VRRP adverts in the client namespace (undefined when tcpdump is missing). */
  readonly adverts?: LabProcess;
  /** Addresses lb1's adverts come from (its IPv4 address, its IPv6 link-local address). */
  readonly lb1Sources: string[];
  file = "";
  master?: LbProcess;
  backup?: LbProcess;

  constructor(lab: Lab, impl: Impl, s: Settings, sc: Scenario, probes: LabProcess[], lb1Sources: string[], adverts?: LabProcess) {
    this.lab = lab;
    this.impl = impl;
    this.s = s;
    this.sc = sc;
    this.probes = probes;
    this.lb1Sources = lb1Sources;
    this.adverts = adverts;
    if (impl === "tandem") this.file = lab.writeConfig(sc.tandemYaml(s), "bench");
  }

  get timing() {
    return expected(this.s, this.sc.version(this.s));
  }

  spawn(role: "master" | "backup"): LbProcess {
    const host = role === "master" ? "lb1" : "lb2";
    return this.impl === "tandem" ? this.lab.spawnLb(host, this.file, role) : this.lab.spawnKeepalived(host, this.sc.keepalivedConf(this.s, role));
  }

  holdsAll(host: string): boolean {
    return this.sc.vips.every((v) => this.lab.holds(host, v.address));
  }

  holdsNone(host: string): boolean {
    return this.sc.vips.every((v) => !this.lab.holds(host, v.address));
  }

  /** First answer from `host` after wall time `since` on probe i. */
  answerAfter(i: number, host: string, since: number): number | undefined {
    return answers(this.probes[i]).find((a) => a.host === host && a.t > since)?.t;
  }

  /** Waits until lb1 holds every VIP alone and the client has heard only lb1 for a while. */
  async settled(ms: number): Promise<boolean> {
    const ok = () => this.holdsAll("lb1") && this.holdsNone("lb2") && this.probes.every((p) => answers(p).at(-1)?.host === "lb1");
    if ((await waitFor(ok, ms, 50)) < 0) return false;
    // Let the backup hear a few adverts from the master before it is failed.
    await new Promise((r) => setTimeout(r, Math.max(1000, 2 * this.s.advert)));
    return ok();
  }

  async start(): Promise<boolean> {
    this.backup = this.spawn("backup");
    await waitFor(() => this.holdsAll("lb2"), this.timing.mdi + 5000, 50);
    this.master = this.spawn("master");
    return this.settled(this.timing.mdi + 10_000);
  }

  /** Wall times (ms) of lb1's adverts for a VRID seen on the wire by the client, with their priority. */
  lb1Adverts(vrid: number): { t: number; priority: number }[] {
    const out: { t: number; priority: number }[] = [];
    for (const line of this.adverts?.lines ?? []) {
      const m = /^(\d+\.\d+) IP6? (\S+) > \S+ VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(line);
      if (m && this.lb1Sources.includes(m[2]) && Number(m[3]) === vrid) out.push({ t: Number(m[1]) * 1000, priority: Number(m[4]) });
    }
    return out;
  }

  /**
   * Fails the master at a random phase of its advert cycle. Returns the client-side failover time
   * (ms from the signal until the client's first answer from lb2 on every VIP), and from the adverts
   * on the wire: the time beyond the protocol floor (last advert + Master_Down_Interval for kill -9,
   * priority-0 advert + Skew_Time for SIGTERM; the largest over the VIPs) and, for SIGTERM, how long
   * the priority-0 advert took to leave.
   */
  async failover(mode: Mode): Promise<Trial | undefined> {
    const m = this.master!;
    const pid = m.child.pid!;
    await new Promise((r) => setTimeout(r, Math.random() * this.s.advert));
    const t0 = performance.timeOrigin + performance.now();
    if (mode === "kill -9") {
      // keepalived's VRRP child first: it would stop cleanly (priority 0) when its parent dies.
      for (const c of childrenOf(pid)) kill(c, "SIGKILL");
      kill(pid, "SIGKILL");
    } else {
      kill(pid, "SIGTERM");
    }
    const { mdi, skew } = this.timing;
    const all = () => this.sc.vips.map((_, i) => this.answerAfter(i, "lb2", t0));
    await waitFor(() => all().every((t) => t !== undefined), mdi + 5000, 5);
    const times = all();
    await Promise.race([m.exited, new Promise((r) => setTimeout(r, 5000))]);
    for (const c of childrenOf(pid)) kill(c, "SIGKILL");
    kill(pid, "SIGKILL");
    // kill -9 leaves the VIPs on lb1: remove them (tandem would at its next start; keepalived may not).
    for (const v of this.sc.vips) this.lab.exec("lb1", ["ip", "addr", "del", `${v.address}/${v.prefix}`, "dev", "eth0"], { allowFail: true });
    if (times.some((t) => t === undefined)) return undefined;
    let beyond: number | undefined;
    let send: number | undefined;
    this.sc.vips.forEach((v, i) => {
      const seen = this.lb1Adverts(v.vrid);
      let b: number | undefined;
      if (mode === "kill -9") {
        const last = seen.filter((a) => a.t <= t0 && a.priority > 0).at(-1);
        if (last) b = times[i]! - (last.t + mdi);
      } else {
        const zero = seen.find((a) => a.t >= t0 - 5 && a.priority === 0);
        if (zero) {
          send = Math.max(send ?? 0, zero.t - t0);
          b = times[i]! - (zero.t + skew);
        }
      }
      if (b !== undefined) beyond = Math.max(beyond ?? -Infinity, b);
    });
    return { ms: Math.max(...times.map((t) => t!)) - t0, beyond, send };
  }

  /** Restarts the master and waits until the client is back on lb1. */
  async restart(): Promise<boolean> {
    this.master = this.spawn("master");
    return this.settled(this.timing.mdi + 10_000);
  }

  async stop(): Promise<void> {
    for (const p of [this.master, this.backup]) {
      if (!p) continue;
      for (const c of childrenOf(p.child.pid!)) kill(c, "SIGKILL");
      kill(p.child.pid!, "SIGKILL");
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    for (const h of ["lb1", "lb2"]) for (const v of this.sc.vips) this.lab.exec(h, ["ip", "addr", "del", `${v.address}/${v.prefix}`, "dev", "eth0"], { allowFail: true });
  }
}

/** One failover as measured. */
interface Trial {
  ms: number;
  beyond?: number;
  send?: number;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "–");

/** Entry point called by scripts/bench.ts. */
export async function main(_which: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "20" },
      advert: { type: "string", default: "1000" },
      version: { type: "string", default: "3" },
      only: { type: "string" },
      scenarios: { type: "string", default: "ipv4,ipv6,two" },
      "max-minutes": { type: "string", default: "45" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  const s: Settings = { version: values.version === "2" ? 2 : 3, advert: Number(values.advert) };
  if (!(runs >= 1) || !(s.advert >= 10)) throw new Error("--runs must be ≥ 1 and --advert (ms) ≥ 10");
  const scenarios = values.scenarios.split(",").map((n) => {
    const sc = SCENARIOS[n.trim()];
    if (!sc) throw new Error(`unknown scenario "${n}": ${Object.keys(SCENARIOS).join(", ")}`);
    return sc;
  });
  const impls: Impl[] = values.only ? [values.only as Impl] : ["tandem", "keepalived"];
  const deadline = Date.now() + Number(values["max-minutes"]) * 60_000;
  for (const sc of scenarios) {
    const { mdi, skew } = expected(s, sc.version(s));
    process.stdout.write(`failover ${sc.name}: VRRPv${sc.version(s)}, advert ${s.advert} ms, priorities ${PRIORITY.master}/${PRIORITY.backup}: ` +
      `Master_Down_Interval ${mdi.toFixed(0)} ms, Skew_Time ${skew.toFixed(0)} ms; ${runs} run(s) per case\n`);
  }

  const results = new Map<string, Trial[]>();
  const failures = new Map<string, number>();
  const key = (sc: Scenario, impl: Impl, mode: Mode) => `${sc.name}|${impl}|${mode}`;
  const lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" }, { ipv6: true });
  const onSignal = () => void lab.destroy().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  try {
    await lab.serve("lb1", PORT, "lb1", "::");
    await lab.serve("lb2", PORT, "lb2", "::");
    const lb1Sources = [lab.address("lb1"), /inet6 (fe80::[0-9a-f:]+)\//.exec(lab.exec("lb1", ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]))?.[1] ?? ""];
    // The adverts on the wire, as the client's interface sees them (kernel timestamps).
    const adverts = hasTcpdump() ? lab.spawn("client", ["tcpdump", "-i", "eth0", "-n", "-tt", "-l", "ip proto 112 or ip6 proto 112"]) : undefined;
    if (!adverts) process.stdout.write("tcpdump not found: the columns measured against the adverts stay empty\n");
    for (const sc of scenarios) {
      const probes = sc.vips.map((v) => lab.spawn("client", [NODE, "--no-warnings", join(root, "scripts/bench/failover_probe.ts"), v.address, String(PORT), "5"]));
      // Runs of the two implementations alternate in order (tandem first in even rounds).
      for (let run = 0; run < runs && Date.now() < deadline; run++) {
        const order = run % 2 === 0 ? impls : [...impls].reverse();
        for (const impl of order) {
          const pair = new Pair(lab, impl, s, sc, probes, lb1Sources, adverts);
          try {
            if (!(await pair.start())) {
              process.stdout.write(`${sc.name} run ${run + 1} ${impl}: did not settle with lb1 as master; skipped\n`);
              for (const mode of MODES) failures.set(key(sc, impl, mode), (failures.get(key(sc, impl, mode)) ?? 0) + 1);
              continue;
            }
            for (const mode of MODES) {
              const k = key(sc, impl, mode);
              const r = await pair.failover(mode);
              if (r === undefined) failures.set(k, (failures.get(k) ?? 0) + 1);
              else results.set(k, [...(results.get(k) ?? []), r]);
              const extra = r ? `${r.beyond !== undefined ? `, ${r.beyond.toFixed(1)} ms beyond the floor` : ""}${r.send !== undefined ? `, priority 0 on the wire after ${r.send.toFixed(1)} ms` : ""}` : "";
              process.stdout.write(`${sc.name} run ${run + 1}/${runs} ${impl.padEnd(10)} ${mode.padEnd(7)}: ${r === undefined ? "no failover seen" : `${r.ms.toFixed(0)} ms${extra}`}\n`);
              if (mode !== MODES.at(-1) && !(await pair.restart())) {
                process.stdout.write(`${sc.name} run ${run + 1} ${impl}: lb1 did not come back; rest of this run skipped\n`);
                break;
              }
            }
          } finally {
            await pair.stop();
          }
        }
      }
      for (const p of probes) p.child.kill("SIGTERM");
    }
    adverts?.child.kill("SIGTERM");
  } finally {
    process.off("SIGINT", onSignal);
    await lab.destroy();
    await cleanup();
  }

  const rows = scenarios.flatMap((sc) => {
    const { mdi, skew } = expected(s, sc.version(s));
    const get = (impl: Impl, mode: Mode, f: (t: Trial) => number | undefined) => (results.get(key(sc, impl, mode)) ?? []).map(f).filter((x): x is number => x !== undefined);
    const pair = (f: (t: Trial) => number | undefined, mode: Mode, q = 0.5, digits = 0) => {
      const show = (xs: number[]) => (xs.length ? quantile(xs, q).toFixed(digits) : "–");
      return `${show(get("tandem", mode, f))} / ${show(get("keepalived", mode, f))}`;
    };
    return MODES.map((mode) => {
      const t = get("tandem", mode, (r) => r.ms);
      const k = get("keepalived", mode, (r) => r.ms);
      const fails = `${failures.get(key(sc, "tandem", mode)) ?? 0} / ${failures.get(key(sc, "keepalived", mode)) ?? 0}`;
      const ratio = quantile(t, 0.5) / quantile(k, 0.5);
      const floor = mode === "kill -9" ? `${fmt(mdi - s.advert)}–${fmt(mdi)}` : fmt(skew);
      return `| ${sc.name} | ${mode} | ${floor} | ${fmt(quantile(t, 0.5))} | ${fmt(quantile(k, 0.5))} | **${Number.isFinite(ratio) ? ratio.toFixed(2) : "–"}×** | ` +
        `${pair((r) => r.ms, mode, 0.9)} | ${pair((r) => r.beyond, mode, 0.5, 1)} | ${mode === "SIGTERM" ? pair((r) => r.send, mode, 0.5, 1) : "n/a"} | ${t.length} / ${k.length} | ${fails} |`;
    });
  });
  const table = `Command: \`npm run bench -- failover --runs ${runs} --advert ${s.advert} --version ${s.version} --scenarios ${values.scenarios}\` (${new Date().toISOString().slice(0, 10)}).
Two lbs and a client in network namespaces on one bridge: tandem (the built binary, one YAML with
\`--role master\` / \`--role backup\`) and keepalived ${keepalivedVersion()} with the same settings (advert
${s.advert} ms, priorities ${PRIORITY.master}/${PRIORITY.backup}, default gratuitous ARP or neighbour advertisements), one after the other, the order alternating
between runs. Scenarios: **IPv4**, one VRRPv${s.version} instance; **IPv6**, one VRRPv3 instance over IPv6
(an IPv6 VIP, the client reaching it over IPv6); **two instances**, two IPv4 instances both held by
the master (failover ends when the client reaches both VIPs on the backup). The client opens a TCP
connection to each VIP every 5 ms; a server on each lb answers with its name. **Failover** = from the
signal to the master (sent at a random point of its advert cycle) until the client's first answer
from the backup (the VIP moved and the client's ARP or neighbour entry followed). kill -9 leaves lb1's
server and kernel up (a dead daemon, not a dead host). **Protocol floor**: after kill -9 the backup
waits Master_Down_Interval from the last advert it heard (so MDI − advert .. MDI after the kill);
after SIGTERM the master sends priority 0 and the backup waits Skew_Time. **Beyond the floor** =
failover minus that floor, timed against the adverts the client's interface captured (tcpdump; the
largest over the VIPs): the implementation's own cost (timers, VIP, ARP/NA). **Priority 0 sent** =
from SIGTERM to the priority-0 advert on the wire. Medians unless marked; times in ms.

| scenario | master | protocol floor | tandem failover | keepalived failover | ratio | p90 (tandem / keepalived) | beyond the floor (tandem / keepalived) | priority 0 sent (tandem / keepalived) | runs | no failover (tandem / keepalived) |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
  process.stdout.write("\n" + table + "\n");
  if (!values["no-write"]) writeSection(join(root, "docs/performance.md"), "## VRRP failover", table);
}

function hasTcpdump(): boolean {
  return spawnSync("tcpdump", ["--version"], { stdio: "ignore" }).status === 0;
}

function keepalivedVersion(): string {
  // keepalived prints its version on stderr.
  const r = spawnSync("keepalived", ["--version"], { encoding: "utf8" });
  return /Keepalived v([\d.]+)/.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[1] ?? "(version unknown)";
}
