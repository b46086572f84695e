// `npm run bench -- failover`: VRRP failover time seen by a client, tandem against keepalived,
// after kill -9 and SIGTERM of the master, in the same namespace lab with the same settings.

import { execFileSync, spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Lab, NODE, VIP, waitFor, type LbProcess, type LabProcess } from "../../test/integration/vrrp_lab.ts";
import { cleanup, writeSection } from "./lab.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PORT = 7000;
const PRIORITY = { master: 100, backup: 50 };

type Impl = "tandem" | "keepalived";
type Mode = "kill -9" | "SIGTERM";
const MODES: Mode[] = ["kill -9", "SIGTERM"];

interface Settings {
  version: 2 | 3;
  /** Advert interval, ms. */
  advert: number;
}

/** Master_Down_Interval and Skew_Time of the backup (RFC 5798 §6.1; RFC 3768 §6.1 for v2). */
function expected(s: Settings): { mdi: number; skew: number } {
  const skew = s.version === 3 ? ((256 - PRIORITY.backup) * s.advert) / 256 : (256 - PRIORITY.backup) / 256 * 1000;
  return { mdi: 3 * s.advert + skew, skew };
}

/** tandem.yaml for both hosts, product defaults otherwise (GARP: 5 at once, 5 more after 5 s, like keepalived). */
function tandemYaml(s: Settings): string {
  return `global: { state_dir: state, grace_period: 3s }
vrrp:
  interface: eth0
  virtual_router_id: 51
  version: ${s.version}
  advert_interval: ${s.advert}ms
${s.version === 2 ? "  authentication: { type: pass, password: \"1111\" }\n" : ""}  virtual_ips: [${VIP}/24]
  roles:
    master: { priority: ${PRIORITY.master} }
    backup: { priority: ${PRIORITY.backup} }
`;
}

/** keepalived.conf for one host (keepalived defaults otherwise: garp_master_delay 5, repeat 5). */
function keepalivedConf(s: Settings, role: "master" | "backup"): string {
  return `global_defs {
  router_id bench-${role}
  vrrp_version ${s.version}
}
vrrp_instance VI_1 {
  state ${role.toUpperCase()}
  interface eth0
  virtual_router_id 51
  priority ${PRIORITY[role]}
  advert_int ${s.advert / 1000}
${s.version === 2 ? "  authentication {\n    auth_type PASS\n    auth_pass 1111\n  }\n" : ""}  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

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

/** One run of the lab for one implementation: start, fail over, restart. */
class Pair {
  readonly lab: Lab;
  readonly impl: Impl;
  readonly s: Settings;
  readonly probe: LabProcess;
  /** tcpdump of VRRP adverts in the client namespace (undefined when tcpdump is missing). */
  readonly adverts?: LabProcess;
  file = "";
  master?: LbProcess;
  backup?: LbProcess;

  constructor(lab: Lab, impl: Impl, s: Settings, probe: LabProcess, adverts?: LabProcess) {
    this.lab = lab;
    this.impl = impl;
    this.s = s;
    this.probe = probe;
    this.adverts = adverts;
    if (impl === "tandem") this.file = lab.writeConfig(tandemYaml(s), "bench");
  }

  spawn(role: "master" | "backup"): LbProcess {
    const host = role === "master" ? "lb1" : "lb2";
    return this.impl === "tandem" ? this.lab.spawnLb(host, this.file, role) : this.lab.spawnKeepalived(host, keepalivedConf(this.s, role));
  }

  /** The last host the client heard, and when (wall ms). */
  lastAnswer(): { t: number; host: string } | undefined {
    const line = this.probe.lines.at(-1);
    if (!line) return undefined;
    const [t, host] = line.split(" ");
    return { t: Number(t), host };
  }

  /** First answer from `host` after wall time `since`. */
  answerAfter(host: string, since: number): number | undefined {
    for (const line of this.probe.lines) {
      const [t, h] = line.split(" ");
      if (h === host && Number(t) > since) return Number(t);
    }
    return undefined;
  }

  /** Waits until lb1 holds the VIP alone and the client has heard only lb1 for a while. */
  async settled(ms: number): Promise<boolean> {
    const ok = () => {
      const last = this.lastAnswer();
      return this.lab.holds("lb1") && !this.lab.holds("lb2") && last?.host === "lb1";
    };
    if ((await waitFor(ok, ms, 50)) < 0) return false;
    // Let the backup hear a few adverts from the master before it is failed.
    await new Promise((r) => setTimeout(r, Math.max(1000, 2 * this.s.advert)));
    return ok();
  }

  async start(): Promise<boolean> {
    this.backup = this.spawn("backup");
    await waitFor(() => this.lab.holds("lb2"), expected(this.s).mdi + 5000, 50);
    this.master = this.spawn("master");
    return this.settled(expected(this.s).mdi + 10_000);
  }

  /** Wall times (ms) of lb1's adverts seen on the wire by the client, with their priority. */
  lb1Adverts(): { t: number; priority: number }[] {
    const out: { t: number; priority: number }[] = [];
    for (const line of this.adverts?.lines ?? []) {
      const m = /^(\d+\.\d+) IP 192\.0\.2\.11 > .*prio (\d+)/.exec(line);
      if (m) out.push({ t: Number(m[1]) * 1000, priority: Number(m[2]) });
    }
    return out;
  }

  /**
   * Fails the master at a random phase of its advert cycle. Returns the client-side failover time
   * (ms from the signal to the first answer from lb2), and from the adverts on the wire: the time
   * beyond the protocol floor (last advert + Master_Down_Interval for kill -9, priority-0 advert +
   * Skew_Time for SIGTERM) and, for SIGTERM, how long the priority-0 advert took to leave.
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
    const limit = expected(this.s).mdi + 5000;
    await waitFor(() => this.answerAfter("lb2", t0) !== undefined, limit, 5);
    const t = this.answerAfter("lb2", t0);
    await Promise.race([m.exited, new Promise((r) => setTimeout(r, 5000))]);
    for (const c of childrenOf(pid)) kill(c, "SIGKILL");
    kill(pid, "SIGKILL");
    // kill -9 leaves the VIP on lb1: remove it (tandem would at its next start; keepalived may not).
    this.lab.exec("lb1", ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
    if (t === undefined) return undefined;
    const { mdi, skew } = expected(this.s);
    const seen = this.lb1Adverts();
    let beyond: number | undefined;
    let send: number | undefined;
    if (mode === "kill -9") {
      const last = seen.filter((a) => a.t <= t0 && a.priority > 0).at(-1);
      if (last) beyond = t - (last.t + mdi);
    } else {
      const zero = seen.find((a) => a.t >= t0 - 5 && a.priority === 0);
      if (zero) {
        send = zero.t - t0;
        beyond = t - (zero.t + skew);
      }
    }
    return { ms: t - t0, beyond, send };
  }

  /** Restarts the master and waits until the client is back on lb1. */
  async restart(): Promise<boolean> {
    this.master = this.spawn("master");
    return this.settled(expected(this.s).mdi + 10_000);
  }

  async stop(): Promise<void> {
    for (const p of [this.master, this.backup]) {
      if (!p) continue;
      for (const c of childrenOf(p.child.pid!)) kill(c, "SIGKILL");
      kill(p.child.pid!, "SIGKILL");
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    for (const h of ["lb1", "lb2"]) this.lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
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
      "max-minutes": { type: "string", default: "45" },
      "no-write": { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  const s: Settings = { version: values.version === "2" ? 2 : 3, advert: Number(values.advert) };
  if (!(runs >= 1) || !(s.advert >= 10)) throw new Error("--runs must be ≥ 1 and --advert (ms) ≥ 10");
  const impls: Impl[] = values.only ? [values.only as Impl] : ["tandem", "keepalived"];
  const deadline = Date.now() + Number(values["max-minutes"]) * 60_000;
  const { mdi, skew } = expected(s);
  process.stdout.write(`failover: VRRPv${s.version}, advert ${s.advert} ms, priorities ${PRIORITY.master}/${PRIORITY.backup}: ` +
    `Master_Down_Interval ${mdi.toFixed(0)} ms, Skew_Time ${skew.toFixed(0)} ms; ${runs} run(s) per case\n`);

  const results = new Map<string, Trial[]>();
  const failures = new Map<string, number>();
  const lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", client: "192.0.2.50" });
  const onSignal = () => void lab.destroy().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  try {
    await lab.serve("lb1", PORT, "lb1");
    await lab.serve("lb2", PORT, "lb2");
    const probe = lab.spawn("client", [NODE, "--no-warnings", join(root, "scripts/bench/failover_probe.ts"), VIP, String(PORT), "5"]);
    // The adverts on the wire, as the client's interface sees them (kernel timestamps).
    const adverts = hasTcpdump() ? lab.spawn("client", ["tcpdump", "-i", "eth0", "-n", "-tt", "-l", "ip proto 112"]) : undefined;
    if (!adverts) process.stdout.write("tcpdump not found: the columns measured against the adverts stay empty\n");
    // Runs of the two implementations alternate in order (tandem first in even rounds).
    for (let run = 0; run < runs && Date.now() < deadline; run++) {
      const order = run % 2 === 0 ? impls : [...impls].reverse();
      for (const impl of order) {
        const pair = new Pair(lab, impl, s, probe, adverts);
        try {
          if (!(await pair.start())) {
            process.stdout.write(`run ${run + 1} ${impl}: did not settle with lb1 as master; skipped\n`);
            for (const mode of MODES) failures.set(`${impl}|${mode}`, (failures.get(`${impl}|${mode}`) ?? 0) + 1);
            continue;
          }
          for (const mode of MODES) {
            const key = `${impl}|${mode}`;
            const r = await pair.failover(mode);
            if (r === undefined) failures.set(key, (failures.get(key) ?? 0) + 1);
            else results.set(key, [...(results.get(key) ?? []), r]);
            const extra = r ? `${r.beyond !== undefined ? `, ${r.beyond.toFixed(1)} ms beyond the floor` : ""}${r.send !== undefined ? `, priority 0 on the wire after ${r.send.toFixed(1)} ms` : ""}` : "";
            process.stdout.write(`run ${run + 1}/${runs} ${impl.padEnd(10)} ${mode.padEnd(7)}: ${r === undefined ? "no failover seen" : `${r.ms.toFixed(0)} ms${extra}`}\n`);
            if (mode !== MODES.at(-1) && !(await pair.restart())) {
              process.stdout.write(`run ${run + 1} ${impl}: lb1 did not come back; rest of this run skipped\n`);
              break;
            }
          }
        } finally {
          await pair.stop();
        }
      }
    }
    probe.child.kill("SIGTERM");
    adverts?.child.kill("SIGTERM");
  } finally {
    process.off("SIGINT", onSignal);
    await lab.destroy();
    await cleanup();
  }

  const col = (xs: number[]) => `${fmt(quantile(xs, 0.5))}`;
  const pair = (f: (t: Trial) => number | undefined, mode: Mode, q = 0.5, digits = 0) => {
    const get = (impl: Impl) => (results.get(`${impl}|${mode}`) ?? []).map(f).filter((x): x is number => x !== undefined);
    const show = (xs: number[]) => (xs.length ? quantile(xs, q).toFixed(digits) : "–");
    return `${show(get("tandem"))} / ${show(get("keepalived"))}`;
  };
  const rows = MODES.map((mode) => {
    const t = (results.get(`tandem|${mode}`) ?? []).map((r) => r.ms);
    const k = (results.get(`keepalived|${mode}`) ?? []).map((r) => r.ms);
    const fails = `${failures.get(`tandem|${mode}`) ?? 0} / ${failures.get(`keepalived|${mode}`) ?? 0}`;
    const ratio = quantile(t, 0.5) / quantile(k, 0.5);
    const floor = mode === "kill -9" ? `${fmt(mdi - s.advert)}–${fmt(mdi)}` : fmt(skew);
    return `| ${mode} | ${floor} | ${col(t)} | ${col(k)} | **${Number.isFinite(ratio) ? ratio.toFixed(2) : "–"}×** | ` +
      `${pair((r) => r.ms, mode, 0.9)} | ${pair((r) => r.beyond, mode, 0.5, 1)} | ${mode === "SIGTERM" ? pair((r) => r.send, mode, 0.5, 1) : "n/a"} | ${t.length} / ${k.length} | ${fails} |`;
  });
  const table = `Command: \`npm run bench -- failover --runs ${runs} --advert ${s.advert} --version ${s.version}\` (${new Date().toISOString().slice(0, 10)}).
Two lbs and a client in network namespaces on one bridge: tandem (the built binary, one YAML with
\`--role master\` / \`--role backup\`) and keepalived ${keepalivedVersion()} with the same VRRPv${s.version} settings (advert
${s.advert} ms, priorities ${PRIORITY.master}/${PRIORITY.backup}, default gratuitous ARP), one after the other, the order alternating
between runs. The client opens a TCP connection to the VIP every 5 ms; a server on each lb answers with
its name. **Failover** = from the signal to the master (sent at a random point of its advert cycle) until
the client's first answer from the backup (the VIP moved and the client's ARP entry followed the
gratuitous ARP). kill -9 leaves lb1's server and kernel up (a dead daemon, not a dead host).
**Protocol floor**: after kill -9 the backup waits Master_Down_Interval from the last advert it heard
(so MDI − advert .. MDI after the kill); after SIGTERM the master sends priority 0 and the backup waits
Skew_Time. **Beyond the floor** = failover minus that floor, timed against the adverts the client's
interface captured (tcpdump): the implementation's own cost (timers, VIP, ARP). **Priority 0 sent** =
from SIGTERM to the priority-0 advert on the wire. Medians unless marked; times in ms.

| master | protocol floor | tandem failover | keepalived failover | ratio | p90 (tandem / keepalived) | beyond the floor (tandem / keepalived) | priority 0 sent (tandem / keepalived) | runs | no failover (tandem / keepalived) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
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
