// Namespace lab for VRRP scenarios: a bridge namespace, hosts with veth eth0 on 192.0.2.0/24, lb processes.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { VrrpConfig } from "../../src/config/types.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const NODE = join(ROOT, "node_modules", ".bin", "node");

export const VIP = "192.0.2.100";

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8" });
}

/** True when we can create namespaces (root); tests skip otherwise. */
export function canRunLab(): boolean {
  return process.getuid?.() === 0;
}

/** A running lb process and the JSON events it printed. */
export interface LbProcess {
  ns: string;
  child: ChildProcess;
  events: Record<string, unknown>[];
  output: () => string;
  exited: Promise<number | null>;
}

/** A lab: `hosts` maps short names (lb1, lb2, client...) to namespaces with eth0 at the given address. */
export class Lab {
  readonly id = `tv${process.pid}x${Math.floor(Math.random() * 1e4)}`;
  readonly bridgeNs = `${this.id}br`;
  readonly hosts = new Map<string, { ns: string; address: string }>();
  readonly dir = mkdtempSync(join(tmpdir(), "tandem-vrrp-"));
  #procs: LbProcess[] = [];

  constructor(hosts: Record<string, string>) {
    ip("netns", "add", this.bridgeNs);
    ip("-n", this.bridgeNs, "link", "add", "br0", "type", "bridge");
    ip("-n", this.bridgeNs, "link", "set", "br0", "up");
    for (const [name, address] of Object.entries(hosts)) {
      const ns = `${this.id}${name}`;
      ip("netns", "add", ns);
      ip("-n", this.bridgeNs, "link", "add", `p-${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
      ip("-n", this.bridgeNs, "link", "set", `p-${name}`, "master", "br0", "up");
      ip("-n", ns, "link", "set", "lo", "up");
      ip("-n", ns, "link", "set", "eth0", "up");
      ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
      this.hosts.set(name, { ns, address });
    }
  }

  ns(name: string): string {
    return this.hosts.get(name)!.ns;
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

  /** True when `address` is on the host's eth0. */
  holds(name: string, address = VIP): boolean {
    return ip("-n", this.ns(name), "-4", "-o", "addr", "show", "dev", "eth0").includes(` ${address}/`);
  }

  mac(name: string): string {
    return ip("-n", this.ns(name), "-o", "link", "show", "dev", "eth0").match(/link\/ether ([0-9a-f:]+)/)![1];
  }

  /**
   * Opens a TCP connection from host `name` to address:port (nothing listens there): "refused"
   * proves the address answered (and fills the ARP cache), "timeout" that nobody did.
   */
  reach(name: string, address = VIP, port = 9): string {
    const js = `const s=require("net").connect({host:"${address}",port:${port}});s.setTimeout(700);` +
      `s.on("connect",()=>{console.log("connected");s.destroy()});s.on("timeout",()=>{console.log("timeout");s.destroy()});` +
      `s.on("error",e=>console.log(e.code==="ECONNREFUSED"?"refused":e.code))`;
    return this.exec(name, [NODE, "-e", js], { allowFail: true }).trim();
  }

  /** The client's ARP entry for address, or "". */
  neigh(name: string, address = VIP): string {
    return ip("-n", this.ns(name), "neigh", "show", address).match(/lladdr ([0-9a-f:]+)/)?.[1] ?? "";
  }

  /**
   * Spawns one load-balancer process in host `name` with this VRRP config.
   * The single place that decides what an "lb" is: today the VRRP runner, later dist/tandem.
   */
  spawnLb(name: string, vrrp: VrrpConfig, env: Record<string, string> = {}): LbProcess {
    const file = join(this.dir, `${name}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(vrrp));
    const child = spawn("ip", ["netns", "exec", this.ns(name), NODE, "--no-warnings", join(ROOT, "test/integration/vrrp_runner.ts"), file], {
      stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
    });
    return this.#track(name, child);
  }

  /** Spawns a real keepalived in host `name` with the given config text. */
  spawnKeepalived(name: string, conf: string): LbProcess {
    const base = join(this.dir, `${name}-ka-${Date.now()}`);
    writeFileSync(`${base}.conf`, conf);
    const child = spawn("ip", ["netns", "exec", this.ns(name), "keepalived", "-n", "-l", "-D", "-f", `${base}.conf`, "-p", `${base}.pid`, "-r", `${base}.vrrp.pid`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return this.#track(name, child);
  }

  #track(name: string, child: ChildProcess): LbProcess {
    let out = "";
    const events: Record<string, unknown>[] = [];
    let partial = "";
    child.stdout!.on("data", (b: Buffer) => {
      out += b;
      partial += b;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const l of lines) {
        try {
          events.push(JSON.parse(l));
        } catch { /* keepalived text */ }
      }
    });
    child.stderr!.on("data", (b: Buffer) => (out += b));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const p: LbProcess = { ns: this.ns(name), child, events, output: () => out, exited };
    this.#procs.push(p);
    return p;
  }

  /** Kills every process and deletes every namespace and file. Safe to call twice. */
  async destroy(): Promise<void> {
    for (const p of this.#procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 2000))]);
    }
    // Processes started by `ip netns exec` are children of ip: kill what is left in our namespaces.
    for (const { ns } of this.hosts.values()) {
      const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch { /* gone */ }
      }
      try {
        ip("netns", "del", ns);
      } catch { /* already gone */ }
    }
    try {
      ip("netns", "del", this.bridgeNs);
    } catch { /* already gone */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
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
    name: "VI_1", routerId: "lab", interface: "eth0", vrid: 51, version: 3, advertInterval: 200,
    virtualIps: [{ cidr: { address: VIP, prefix: 24, family: 4 } }],
    priority: 100, preempt: true, preemptDelay: 0, initialState: "backup",
    unicastPeers: [], track: { interfaces: [], scripts: [] }, notify: { timeout: 5000 },
    garp: { count: 3, interval: 50, repeatDelay: 1000, repeatCount: 2 },
    ...over,
  };
}
