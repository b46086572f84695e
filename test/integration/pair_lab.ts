// The namespace lab for the pair link: two tandem hosts (VRRP + pair link + a sticky proxy), three
// servers, a client with several source addresses; the built binary on both hosts.

import { copyFileSync, writeFileSync } from "node:fs";
import { after, afterEach, before } from "node:test";
import { join } from "node:path";
import { runCtl } from "../../src/cli/ctl.ts";
import { scenarioYaml } from "./lab_config.ts";
import { Lab, labScenario, NODE, started, VIP, waitFor, type LabProcess, type LbProcess } from "./vrrp_lab.ts";

export const PAIR_KEY = "lab-pair-key-0123456789abcdefghijkl";
export const SERVERS = { s1: "192.0.2.21", s2: "192.0.2.22", s3: "192.0.2.23" } as const;
/** Source addresses the client connects from (added to its eth0). */
export const SOURCES = Array.from({ length: 24 }, (_, i) => `192.0.2.${60 + i}`);

/** A lab with lb1, lb2, three servers answering their name on :8081 (and holding :8082 open), and the client. */
export async function pairLab(): Promise<{ lab: Lab; servers: LabProcess[] }> {
  const lab = new Lab({ lb1: "192.0.2.11", lb2: "192.0.2.12", ...SERVERS, client: "192.0.2.50" });
  try {
    for (const src of SOURCES) lab.exec("client", ["ip", "addr", "add", `${src}/24`, "dev", "eth0"]);
    const servers: LabProcess[] = [];
    for (const name of Object.keys(SERVERS)) {
      servers.push(await lab.serve(name, 8081, name));
      // A connection that stays open (for closing on VIP loss): the server says its name and waits.
      const js = `require("node:net").createServer(c=>{c.on("error",()=>{});c.write(${JSON.stringify(`${name}\n`)})}).listen(8082,"0.0.0.0",()=>console.log("listening"))`;
      servers.push(lab.spawn(name, [NODE, "-e", js]));
    }
    return { lab, servers };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** The sections of the lab's file besides vrrp: pair, the sticky proxy, the admin socket. */
export function pairSections(over: { pair?: Record<string, unknown>; proxy?: Record<string, unknown>; extra?: Record<string, unknown> } = {}): Record<string, unknown> {
  const servers = Object.fromEntries(Object.entries(SERVERS).map(([n, a]) => [n, { address: a, port: 8081, check: { interval: "200ms", timeout: "300ms", rise: 1, fall: 1 } }]));
  return {
    global: { state_dir: "state", grace_period: "2s", admin_socket: "admin.sock" },
    pair: { key: PAIR_KEY, port: 7400, roles: { master: { address: "192.0.2.11" }, backup: { address: "192.0.2.12" } }, ...over.pair },
    proxies: {
      web: { mode: "tcp", bind: `${VIP}:8080`, timeout: { connect: "500ms" }, stick: { on: "src", expire: "30m" }, servers, ...over.proxy },
      hold: { mode: "tcp", bind: `${VIP}:8090`, servers: { s1: { address: SERVERS.s1, port: 8082 } } },
    },
    ...over.extra,
  };
}

/** The file both hosts run (VRRPv3, 200 ms adverts, VIP 192.0.2.100). */
export function pairYaml(over: Parameters<typeof pairSections>[0] = {}): string {
  return scenarioYaml(labScenario({}, {}, pairSections(over)));
}

/** Writes the lab's file for each host (their own copies, so one can change); returns [lb1's, lb2's]. */
export function writeFiles(lab: Lab, text = pairYaml()): [string, string] {
  const a = lab.writeConfig(text, "lb1");
  const b = join(lab.dir, "lb2-tandem.yaml");
  copyFileSync(a, b);
  return [a, b];
}

export const socketOf = (lab: Lab, host: string) => join(lab.dir, host, "admin.sock");

/** `tandem ctl --socket HOST's COMMAND`, in this process. */
export async function ctl(lab: Lab, host: string, ...command: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCtl(["--socket", socketOf(lab, host), ...command], (s) => (out += `${s}\n`), (s) => (err += `${s}\n`));
  return { code, out, err };
}

/** The last VRRP state a process reported. */
export const lastState = (p: LbProcess) => String(p.events.findLast((e) => e.event === "vrrp.state")?.to ?? "");
export const linkUps = (p: LbProcess) => p.events.filter((e) => e.event === "pair.link_up").length;

/** Kills every tandem of the lab still running and removes the VIP they left (a test starts clean). */
/**
 * One lab per test file, made before its tests (unless skip), destroyed after them, its load
 * balancers stopped after each test; set() receives it once made.
 */
export function usePairLab(skip: string | false, set: (lab: Lab) => void): void {
  let lab: Lab | undefined;
  before(async () => {
    if (skip) return;
    ({ lab } = await pairLab());
    set(lab);
  });
  after(async () => {
    await lab?.destroy();
  });
  afterEach(async () => {
    if (lab) await stopLbs(lab);
  });
}

export async function stopLbs(lab: Lab): Promise<void> {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  for (const h of ["lb1", "lb2"]) lab.exec(h, ["ip", "addr", "del", `${VIP}/24`, "dev", "eth0"], { allowFail: true });
}

const running: LbProcess[] = [];

/** Runs tandem on a lab host (stopLbs ends it). */
export function spawnLb(lab: Lab, host: string, file: string, role: "master" | "backup"): LbProcess {
  const p = lab.spawnLb(host, file, role);
  running.push(p);
  return p;
}

/** Starts lb2 (backup) then lb1 (master); waits until lb1 holds the VIP and the link is up. */
export async function startPair(lab: Lab, files: [string, string]): Promise<{ a: LbProcess; b: LbProcess }> {
  const b = spawnLb(lab, "lb2", files[1], "backup");
  await started(b);
  const a = spawnLb(lab, "lb1", files[0], "master");
  await started(a);
  const t = await waitFor(() => lab.holds("lb1") && !lab.holds("lb2") && lastState(a) === "master" && linkUps(a) > 0 && linkUps(b) > 0, 10_000);
  if (t < 0) throw new Error(`the pair did not settle:\n${a.output()}\n${b.output()}`);
  return { a, b };
}

/** Connects once from each source address to VIP:port; returns source → first line (the server's name, or an error code). */
export function fetchFrom(lab: Lab, sources: readonly string[], port = 8080): Map<string, string> {
  const js = `const net=require("node:net");const srcs=${JSON.stringify(sources)};const out={};let left=srcs.length;` +
    `for(const src of srcs){const s=net.connect({host:"${VIP}",port:${port},localAddress:src});let d="";s.setTimeout(2000);` +
    `const done=(v)=>{if(out[src]!==undefined)return;out[src]=v;if(--left===0)console.log(JSON.stringify(out))};` +
    `s.on("data",b=>d+=b);s.on("end",()=>done(d.split("\\n")[0]));s.on("timeout",()=>{done("timeout");s.destroy()});s.on("error",e=>done(e.code))}`;
  const text = lab.exec("client", [NODE, "-e", js], { allowFail: true }).trim();
  return new Map(Object.entries(text ? (JSON.parse(text) as Record<string, string>) : {}));
}

/** Entries of the host's stick table "web" by key, read with `show table web`. */
export async function table(lab: Lab, host: string): Promise<Map<string, string>> {
  const r = await ctl(lab, host, "show", "table", "web");
  const out = new Map<string, string>();
  for (const m of r.out.matchAll(/^key=(\S+) server=(\S+)/gm)) out.set(m[1], m[2]);
  return out;
}

let nftFiles = 0;

/** Runs an nft script inside a host's namespace (a firewall between the hosts). */
export function nft(lab: Lab, host: string, script: string): void {
  const file = join(lab.dir, `${host}-${++nftFiles}.nft`);
  writeFileSync(file, script);
  lab.exec(host, ["nft", "-f", file]);
}

/** Polls an async check every 50 ms until it holds or ms pass; returns elapsed ms or -1. */
export async function poll(fn: () => Promise<boolean>, ms: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await fn()) return performance.now() - start;
    if (performance.now() - start > ms) return -1;
    await new Promise((r) => setTimeout(r, 50));
  }
}
