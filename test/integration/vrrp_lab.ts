// Namespace lab for VRRP scenarios: a bridge namespace, hosts with veth eth0 on 192.0.2.0/24, lb processes.

import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { tandemBinary } from "../helpers/binary.ts";
import { scenarioYaml, type LabScenario } from "./lab_config.ts";
import type { Role } from "../../src/config/types.ts";
import type { VrrpConfig } from "../../src/vrrp/config.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const NODE = join(ROOT, "node_modules", ".bin", "node");
export const DENO = join(ROOT, "node_modules", ".bin", "deno");

export const VIP = "192.0.2.100";
/** A second IPv4 VIP (active/active scenarios) and the IPv6 VIPs (documentation prefix 2001:db8::/64). */
export const VIP2 = "192.0.2.101";
export const VIP6 = "2001:db8::100";
export const VIP6B = "2001:db8::101";

/** The IPv6 address a lab host gets beside its IPv4 one: 2001:db8:: plus the IPv4 address's last byte. */
export function ipv6Of(ipv4: string): string {
  return `2001:db8::${ipv4.split(".")[3]}`;
}

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8" });
}

const isRoot = () => process.getuid?.() === 0;

/**
 * True when the lab tests should run: as root, or under CI (CI=true), where a missing root must
 * fail the run loudly instead of skipping it.
 */
export function canRunLab(): boolean {
  return isRoot() || isCi();
}

/** True under CI (CI set to anything but "" / "false" / "0"). */
/** keepalived can run here. */
export function hasKeepalived(): boolean {
  try {
    execFileSync("keepalived", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a keepalived interop test skips, or false. Under CI a missing keepalived is not a reason:
 * call requireKeepalived() in before() so the run fails instead.
 */
export function keepalivedSkip(): string | false {
  return (!canRunLab() && "needs root for network namespaces") || (!isCi() && !hasKeepalived() && "keepalived is not installed");
}

/** Throws when the test runs (skip is false) and keepalived is missing. */
export function requireKeepalived(skip: string | false): void {
  if (!skip && !hasKeepalived()) throw new Error("keepalived is not installed (apt-get install keepalived); CI is set, so this test fails instead of skipping");
}

export function isCi(): boolean {
  const v = process.env.CI ?? "";
  return v !== "" && v !== "false" && v !== "0";
}

/** A process started in a host's namespace, with what it printed. */
export interface LabProcess {
  ns: string;
  child: ChildProcess;
  /** For tandem: bus events as { event, ...fields } ("tandem.started" once everything runs). */
  events: Record<string, unknown>[];
  /** Complete stdout/stderr lines, in arrival order. */
  lines: string[];
  output: () => string;
  exited: Promise<number | null>;
}

/** A running lb (tandem or keepalived). */
export type LbProcess = LabProcess;

/**
 * A lab: `hosts` maps short names (lb1, lb2, client...) to namespaces with eth0 on the bridge at
 * the given address ("" for a namespace off the bridge, to be wired with link()).
 */
/** SIGKILLs every process in namespace ns (none if it is gone). */
function killNamespace(ns: string): void {
  let pids: string[] = [];
  try {
    pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
  } catch { /* namespace gone */ }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch { /* gone */ }
  }
}

export class Lab {
  readonly id = `tv${process.pid}x${Math.floor(Math.random() * 1e4)}`;
  readonly bridgeNs = `${this.id}br`;
  readonly hosts = new Map<string, { ns: string; address: string }>();
  readonly dir = mkdtempSync(join(tmpdir(), "tandem-vrrp-"));
  #procs: LabProcess[] = [];
  #binary?: string;

  /**
   * `ipv6`: every host also gets 2001:db8::N/64 (N the last byte of its IPv4 address), duplicate
   * address detection is off in the lab (addresses, link-local ones included, are usable at once)
   * and the bridge floods multicast (no MLD snooping), as a plain switch does.
   */
  constructor(hosts: Record<string, string>, opts: { ipv6?: boolean } = {}) {
    if (!isRoot()) {
      rmSync(this.dir, { recursive: true, force: true });
      throw new Error("The namespace lab needs root (ip netns, raw sockets); CI is set, so these tests run and fail instead of skipping");
    }
    try {
      ip("netns", "add", this.bridgeNs);
      ip("-n", this.bridgeNs, "link", "add", "br0", "type", "bridge");
      if (opts.ipv6) ip("-n", this.bridgeNs, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0");
      ip("-n", this.bridgeNs, "link", "set", "br0", "up");
      for (const [name, address] of Object.entries(hosts)) {
        const ns = `${this.id}${name}`;
        ip("netns", "add", ns);
        if (opts.ipv6) execFileSync("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"]);
        this.hosts.set(name, { ns, address });
        mkdirSync(join(this.dir, name));
        ip("-n", ns, "link", "set", "lo", "up");
        // "" : a host off the bridge, reached through link() (a client behind a router).
        if (address === "") continue;
        ip("-n", this.bridgeNs, "link", "add", `p-${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
        ip("-n", this.bridgeNs, "link", "set", `p-${name}`, "master", "br0", "up");
        ip("-n", ns, "link", "set", "eth0", "up");
        ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
        if (opts.ipv6) ip("-n", ns, "addr", "add", `${ipv6Of(address)}/64`, "dev", "eth0", "nodad");
      }
    } catch (err) {
      this.#deleteNamespaces();
      rmSync(this.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * A point-to-point link between hosts a and b (a veth pair named `dev` on both sides, up, with
   * the given addresses as CIDR): a router's second leg, a client behind it.
   */
  link(a: string, b: string, addressA: string, addressB: string, dev = "eth1"): void {
    ip("-n", this.ns(a), "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", this.ns(b));
    for (const [name, address] of [[a, addressA], [b, addressB]]) {
      ip("-n", this.ns(name), "addr", "add", address, "dev", dev, ...(address.includes(":") ? ["nodad"] : []));
      ip("-n", this.ns(name), "link", "set", dev, "up");
    }
  }

  ns(name: string): string {
    return this.hosts.get(name)!.ns;
  }

  /** SIGKILLs every process in a host's namespace, ours or not (keepalived forks a VRRP child). */
  killAll(name: string): void {
    killNamespace(this.ns(name));
  }

  address(name: string): string {
    return this.hosts.get(name)!.address;
  }

  /** Runs a command inside a host's namespace, returns stdout. */
  exec(name: string, cmd: string[], opts: { allowFail?: boolean } = {}): string {
    try {
      return execFileSync("ip", ["netns", "exec", this.ns(name), ...cmd], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      if (opts.allowFail) return "";
      throw err;
    }
  }

  /** True when `address` (IPv4 or IPv6) is on the host's eth0. */
  holds(name: string, address = VIP): boolean {
    return ip("-n", this.ns(name), address.includes(":") ? "-6" : "-4", "-o", "addr", "show", "dev", "eth0").includes(` ${address}/`);
  }

  /** The host's IPv6 address (labs created with ipv6). */
  address6(name: string): string {
    return ipv6Of(this.address(name));
  }

  mac(name: string): string {
    return ip("-n", this.ns(name), "-o", "link", "show", "dev", "eth0").match(/link\/ether ([0-9a-f:]+)/)![1];
  }

  /**
   * Opens a TCP connection from host `name` to address:port (nothing listens there): "refused"
   * proves the address answered (and fills the ARP cache), "timeout" that nobody did.
   */
  reach(name: string, address = VIP, port = 9): string {
    const js = `const s=require("net").connect({host:${JSON.stringify(address)},port:${port}});s.setTimeout(700);` +
      `s.on("connect",()=>{console.log("connected");s.destroy()});s.on("timeout",()=>{console.log("timeout");s.destroy()});` +
      `s.on("error",e=>console.log(e.code==="ECONNREFUSED"?"refused":e.code))`;
    return this.exec(name, [NODE, "-e", js], { allowFail: true }).trim();
  }

  /** The client's ARP (IPv4) or neighbour cache (IPv6) entry for address, or "". */
  neigh(name: string, address = VIP): string {
    return ip("-n", this.ns(name), "neigh", "show", address).match(/lladdr ([0-9a-f:]+)/)?.[1] ?? "";
  }

  /**
   * Writes a config file for the scenario (one file for both hosts) and returns its path. Every
   * host runs in its own folder of the lab (`cwd`), so the default `state_dir: state` is per host,
   * as on two real machines.
   */
  writeConfig(scenario: LabScenario | string, name = "tandem"): string {
    const file = join(this.dir, `${name}-${Date.now()}-${Math.floor(Math.random() * 1e4)}.yaml`);
    const text = typeof scenario === "string"
      ? scenario
      : scenarioYaml({ ...scenario, sections: { ...scenario.sections, global: { state_dir: "state", grace_period: "3s", ...(scenario.sections?.global as object | undefined) } } });
    writeFileSync(file, text);
    return file;
  }

  /**
   * The built binary, pinned for this lab's lifetime: a hard link (or copy) in the lab folder, so
   * a rebuild of dist/ while the scenario runs does not pull it away.
   */
  binary(): string {
    if (this.#binary) return this.#binary;
    const pinned = join(this.dir, "tandem");
    // A build in progress removes dist/tandem, then writes it: wait (bounded) until it runs.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const source = fileURLToPath(new URL("../../dist/tandem", import.meta.url));
      rmSync(pinned, { force: true });
      try {
        linkSync(source, pinned);
      } catch {
        try {
          copyFileSync(source, pinned);
        } catch { /* not there (yet) */ }
      }
      if (spawnSync(pinned, ["--version"], { env: {}, timeout: 10_000 }).status === 0) return (this.#binary = pinned);
      if (Date.now() > deadline) return tandemBinary(); // throws the "run npm run build" error when missing
      execFileSync("sleep", ["1"]);
    }
  }

  /**
   * Runs the built binary in host `name`: `tandem --config FILE --role ROLE --log-format json`
   * (no --role when role is undefined: a file without vrrp, as every BGP node runs it).
   * The single place that decides what an "lb" is. `env` is added to the process environment
   * (LAB_HOST is set to the host name, for track scripts that must differ per host).
   * `runtime: "deno"` runs the sources on Deno instead (`deno run -A src/main.ts`); `prefix` is a
   * command that runs it (e.g. setpriv with another user and capabilities).
   */
  spawnLb(name: string, file: string, role: Role | undefined, env: Record<string, string> = {}, opts: { runtime?: "binary" | "deno"; prefix?: string[] } = {}): LbProcess {
    const runtime = opts.runtime ?? "binary";
    const program = runtime === "deno" ? [DENO, "run", "-A", `--config=${join(ROOT, "deno.json")}`, join(ROOT, "src", "main.ts")] : [this.binary()];
    const roleArgs = role === undefined ? [] : ["--role", role];
    const child = spawn("ip", ["netns", "exec", this.ns(name), ...(opts.prefix ?? []), ...program, "--config", file, ...roleArgs, "--log-format", "json", "--log-level", "debug"], {
      cwd: join(this.dir, name), stdio: ["ignore", "pipe", "pipe"], env: {
        PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LAB_HOST: name,
        // Deno keeps its cache under HOME; NO_COLOR keeps its own messages plain.
        ...(runtime === "deno" ? { HOME: process.env.HOME ?? "/root", NO_COLOR: "1" } : {}),
        ...env,
      },
    });
    return this.#track(name, child, tandemEvent);
  }

  /** Spawns a real keepalived in host `name` with the given config text. */
  spawnKeepalived(name: string, conf: string): LbProcess {
    const base = join(this.dir, `${name}-ka-${Date.now()}`);
    writeFileSync(`${base}.conf`, conf);
    const child = spawn("ip", ["netns", "exec", this.ns(name), "keepalived", "-n", "-l", "-D", "-f", `${base}.conf`, "-p", `${base}.pid`, "-r", `${base}.vrrp.pid`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return this.#track(name, child, () => undefined);
  }

  /** Runs a command in host `name`'s namespace, collecting its output lines (killed by destroy). */
  spawn(name: string, cmd: string[], env: Record<string, string> = {}): LabProcess {
    const child = spawn("ip", ["netns", "exec", this.ns(name), ...cmd], { cwd: join(this.dir, name), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    return this.#track(name, child, () => undefined);
  }

  /**
   * Starts a TCP server in host `name` on address:port that answers every connection with
   * `reply` and a newline, then closes. Resolves once it listens.
   */
  async serve(name: string, port: number, reply = name, address = "0.0.0.0"): Promise<LabProcess> {
    const js = `const s=require("node:net").createServer(c=>{c.on("error",()=>{});c.end(${JSON.stringify(reply + "\n")})});` +
      `s.listen(${port},${JSON.stringify(address)},()=>console.log("listening"));process.on("SIGTERM",()=>process.exit(0));`;
    const p = this.spawn(name, [NODE, "-e", js]);
    if ((await waitLine(p, /^listening$/, 5000)) === undefined) throw new Error(`server on ${name} ${address}:${port} did not start:\n${p.output()}`);
    return p;
  }

  #track(name: string, child: ChildProcess, parse: (line: string) => Record<string, unknown> | undefined): LabProcess {
    let out = "";
    const events: Record<string, unknown>[] = [];
    const lines: string[] = [];
    const reader = () => {
      let partial = "";
      return (b: Buffer) => {
        out += b;
        partial += b;
        const complete = partial.split("\n");
        partial = complete.pop()!;
        for (const l of complete) {
          lines.push(l);
          const e = parse(l);
          if (e) events.push(e);
        }
      };
    };
    child.stdout!.on("data", reader());
    child.stderr!.on("data", reader());
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const p: LabProcess = { ns: this.ns(name), child, events, lines, output: () => out, exited };
    this.#procs.push(p);
    return p;
  }

  /** Kills every process and deletes every namespace and file. Safe to call twice. */
  async destroy(): Promise<void> {
    for (const p of this.#procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    this.#deleteNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #deleteNamespaces(): void {
    // Processes that forked (keepalived) outlive the one we spawned: kill what is left in our namespaces.
    for (const { ns } of this.hosts.values()) {
      killNamespace(ns);
      try {
        ip("netns", "del", ns);
      } catch { /* already gone */ }
    }
    try {
      ip("netns", "del", this.bridgeNs);
    } catch { /* already gone */ }
  }
}

/** A tandem JSON log line as a lab event: bus events ("tandem.event" lines) become { event: msg, ...fields }. */
function tandemEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const { subsystem, msg, time: _t, level: _l, ...fields } = JSON.parse(line) as Record<string, unknown>;
    return subsystem === "tandem.event" ? { event: msg, ...fields } : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until one of p's lines matches re; returns the line, or undefined after ms or when p exits. */
export async function waitLine(p: LabProcess, re: RegExp, ms: number): Promise<string | undefined> {
  const deadline = performance.now() + ms;
  for (;;) {
    const line = p.lines.find((l) => re.test(l));
    if (line !== undefined) return line;
    if (performance.now() > deadline || p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until tandem logged "tandem.started"; throws with its output otherwise. */
export async function started(p: LbProcess, ms = 10_000): Promise<void> {
  if ((await waitFor(() => p.events.some((e) => e.event === "tandem.started"), ms)) < 0) throw new Error(`tandem did not start:\n${p.output()}`);
}

/** Polls `fn` every `every` ms until it returns true or `timeout` ms pass; returns elapsed ms or -1. */
export async function waitFor(fn: () => boolean, timeout: number, every = 20): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeout) {
    if (fn()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, every));
  }
  return fn() ? performance.now() - start : -1;
}

/** A VrrpConfig for the lab with sensible defaults; override what the scenario needs. */
export function labVrrp(over: Partial<VrrpConfig> = {}): VrrpConfig {
  return {
    name: "VI_1", routerId: "lab", interface: "eth0", vrid: 51, family: over.virtualIps?.[0]?.cidr.family ?? 4, version: 3, advertInterval: 200,
    virtualIps: [{ cidr: { address: VIP, prefix: 24, family: 4 } }],
    priority: 100, preempt: true, preemptDelay: 0, initialState: "backup",
    unicastPeers: [], track: { interfaces: [], scripts: [] }, notify: { timeout: 5000 },
    garp: { count: 3, interval: 50, repeatDelay: 1000, repeatCount: 2 },
    ...over,
  };
}

/** Both roles of a scenario: priorities 100 (master) and 50 (backup), `over` for both, `roles` per role. */
export function labScenario(
  over: Partial<VrrpConfig> = {},
  roles: { master?: Partial<VrrpConfig>; backup?: Partial<VrrpConfig> } = {},
  sections?: Record<string, unknown>,
): LabScenario {
  return { master: labVrrp({ priority: 100, ...over, ...roles.master }), backup: labVrrp({ priority: 50, ...over, ...roles.backup }), sections };
}

/**
 * A `proxies` section: "web" listens on VIP:port (bound before the VIP arrives, via
 * ip_nonlocal_bind) and forwards to a server on 127.0.0.1:serverPort of the same host, checked
 * every 100 ms (rise 1, fall 1).
 */
export function labProxy(port = 8080, serverPort = 8081): Record<string, unknown> {
  return {
    proxies: {
      web: {
        mode: "tcp",
        bind: `${VIP}:${port}`,
        timeout: { connect: "500ms" },
        servers: { app: { address: "127.0.0.1", port: serverPort, check: { interval: "100ms", timeout: "300ms", rise: 1, fall: 1 } } },
      },
    },
  };
}
