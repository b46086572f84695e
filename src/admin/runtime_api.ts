// The runtime API's commands (haproxy stats-socket style): parse one command, run it, return text.

import { describeError } from "../core/errors.ts";
import type { Services } from "../core/subsystem.ts";
import { MAX_WEIGHT, weightProblem } from "../proxy/weight.ts";
import { statsCsv } from "./csv.ts";
import { showPeer } from "./pair_commands.ts";
import type { PairService } from "../pair/subsystem.ts";
import type { StatsSnapshot, VrrpStat } from "./snapshot.ts";
import { didYouMean } from "../config/suggest.ts";

/** A command's answer; severity is set for messages (errors, confirmations), not for data. */
export interface CommandResult {
  text: string;
  severity?: "err" | "info";
}

export const HELP = `Commands:
  help                              this list
  show info                         process, role, connections, VRRP state
  show stat                         per proxy and server counters, as CSV (haproxy columns)
  show servers [PROXY]              servers with status, weight, sessions and last check
  show vrrp [INSTANCE]              VRRP state, priority, tracking, VIPs, last transitions; sync groups
  show bgp                          BGP sessions per peer, what is announced and why (not)
  show table [PROXY]                stick tables, or the entries of one
  show tls                          certificates served, their expiry, handshake counters
  show peer                         the other host: role, VRRP, link, config same or differs, last seen
  why                               why the VIP is where it is (priorities, tracking, adverts, the peer)
  disable server PROXY/SERVER       put a server in maintenance
  enable server PROXY/SERVER        take it out of maintenance and drain (ready)
  set server PROXY/SERVER state ready|drain|maint
  set server PROXY/SERVER weight N  same as set weight
  set weight PROXY/SERVER N         weight 0..${MAX_WEIGHT} (0 = drain)
  clear table PROXY                 empty a stick table
  vrrp demote [INSTANCE]            hand the instance's VIPs (every master's without a name) to the peer
  reload                            re-read the configuration (as SIGHUP)
  reload --pair                     both hosts: validate, reload the one without the VIP, then the other
Manual states and weights survive a reload.`;

const err = (text: string): CommandResult => ({ text, severity: "err" });
const ok = (text = ""): CommandResult => ({ text, severity: text ? "info" : undefined });

const ago = (now: number, at: number | undefined) => (at ? `${Math.max(0, Math.round((now - at) / 1000))}s ago` : "never");

/** One instance: its value; several: NAME=value for each. */
function vrrpSummary(instances: VrrpStat[], value: (v: VrrpStat) => string): string {
  if (instances.length === 1) return value(instances[0]);
  return instances.map((v) => `${v.instance}=${value(v)}`).join(" ");
}

function noInstance(name: string, instances: VrrpStat[]): string {
  const names = instances.map((i) => i.instance);
  const hint = didYouMean(name, names);
  return `No VRRP instance "${name}"${hint ? ` (${hint})` : ""}: instances are ${names.join(", ")}`;
}

/** Pads columns to the widest cell. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

/** Runs commands against the services; snapshot() gives the current picture. */
export class RuntimeApi {
  #services: Services;
  #snapshot: () => StatsSnapshot;

  constructor(deps: { services: Services; snapshot: () => StatsSnapshot }) {
    this.#services = deps.services;
    this.#snapshot = deps.snapshot;
  }

  /** Runs one command line (no ';'). Never throws: failures come back with severity "err". */
  async execute(line: string): Promise<CommandResult> {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return ok();
    try {
      return await this.#dispatch(words);
    } catch (e) {
      return err(describeError(e));
    }
  }

  async #dispatch(w: string[]): Promise<CommandResult> {
    const [a, b, c, d, e] = w;
    const cmd = w.join(" ");
    if (a === "help") return { text: HELP };
    if (a === "show" && b === "info" && !c) return { text: this.#info() };
    if (a === "show" && b === "stat" && !c) return { text: statsCsv(this.#snapshot()).trimEnd() };
    if (a === "show" && b === "servers" && w.length <= 3) return this.#servers(c);
    if (a === "show" && b === "vrrp" && !d) return this.#vrrp(c);
    if (a === "show" && b === "bgp" && !c) return this.#bgp();
    if (a === "show" && b === "table" && w.length <= 3) return this.#table(c);
    if (a === "show" && b === "tls" && !c) return this.#tls();
    if (a === "show" && b === "peer" && !c) return this.#pair((p) => ({ text: showPeer(p.status(), this.#snapshot().info.now) }));
    if (a === "why" && !b) return this.#pair((p) => ({ text: p.why() }));
    if (a === "reload" && b === "--pair" && !c) return this.#pair(async (p) => {
      const r = await p.stagedReload();
      return { text: r.lines.join("\n"), severity: r.ok ? "info" : "err" };
    });
    if ((a === "disable" || a === "enable") && b === "server" && c && !d) return this.#setState(c, a === "disable" ? "maint" : "ready");
    if (a === "set" && b === "server" && c && d === "state" && e && w.length === 5) {
      if (e !== "ready" && e !== "drain" && e !== "maint") return err(`Unknown state "${e}": must be ready, drain or maint`);
      return this.#setState(c, e);
    }
    if (a === "set" && b === "server" && c && d === "weight" && e && w.length === 5) return this.#setWeight(c, e);
    if (a === "set" && b === "weight" && c && d && w.length === 4) return this.#setWeight(c, d);
    if (a === "clear" && b === "table" && c && !d) return this.#clearTable(c);
    if (a === "vrrp" && b === "demote" && !d) return this.#demote(c);
    if (a === "reload" && !b) return this.#reload();
    const known = ["help", "show", "disable", "enable", "set", "clear", "vrrp", "reload", "why"];
    if (!known.includes(a)) return err(`Unknown command "${cmd}": type "help" for the list`);
    return err(`Wrong arguments in "${cmd}": type "help" for the list`);
  }

  #info(): string {
    const s = this.#snapshot();
    const i = s.info;
    const lines: [string, string | number][] = [
      ["Name", i.name], ["Version", i.version], ["Pid", i.pid], ["Role", i.role], ["Hostname", i.hostname],
      ["Uptime_sec", i.uptime], ["CurrConns", i.connections], ["Maxconn", i.maxconn],
      ["Frontends", s.frontends.length], ["Backends", s.backends.length],
      ["Servers_up", s.backends.reduce((n, b) => n + b.servers.filter((v) => v.status === "UP").length, 0)],
      ["Servers_total", s.backends.reduce((n, b) => n + b.servers.length, 0)],
      ["Vrrp_state", vrrpSummary(s.vrrp, (v) => v.state) || "disabled"],
    ];
    if (s.vrrp.length) lines.push(["Vrrp_priority", vrrpSummary(s.vrrp, (v) => String(v.priority))]);
    if (s.bgp) {
      lines.push(["Bgp_sessions_established", `${s.bgp.peers.filter((p) => p.state === "established").length}/${s.bgp.peers.length}`]);
      lines.push(["Bgp_announced", `${s.bgp.announce.filter((a) => a.state === "announced").length}/${s.bgp.announce.length}`]);
    }
    lines.push(["Alert_spool_pending", s.alerts.notifiers.reduce((n, q) => n + q.pending, 0)]);
    return lines.map(([k, v]) => `${k}: ${v}`).join("\n");
  }

  #pair(run: (p: PairService) => CommandResult | Promise<CommandResult>): CommandResult | Promise<CommandResult> {
    const p = this.#services.pair;
    return p ? run(p) : err("The pair subsystem is not running in this process");
  }

  #servers(proxy?: string): CommandResult {
    const s = this.#snapshot();
    const backends = proxy ? s.backends.filter((b) => b.name === proxy) : s.backends;
    if (proxy && backends.length === 0) return err(`No such proxy: ${proxy}`);
    const rows = [["# proxy/server", "address", "status", "weight", "scur", "smax", "stot", "qcur", "check"]];
    for (const b of backends) {
      for (const v of b.servers) {
        const check = v.check ? (v.check.status ? `${v.check.status} ${v.check.detail} in ${v.check.duration}ms` : "pending") : "no check";
        rows.push([`${b.name}/${v.name}`, v.address, v.status, String(v.weight), String(v.scur), String(v.smax), String(v.stot), String(v.qcur), check]);
      }
    }
    return { text: table(rows) };
  }

  #vrrp(name?: string): CommandResult {
    const s = this.#snapshot();
    if (s.vrrp.length === 0) return err("VRRP is not configured");
    const chosen = name === undefined ? s.vrrp : s.vrrp.filter((v) => v.instance === name);
    if (chosen.length === 0) return err(noInstance(name!, s.vrrp));
    const now = s.info.now;
    const blocks = chosen.map((v) => [
      `Instance: ${v.instance}`,
      `Interface: ${v.interface} VRID ${v.vrid} IPv${v.family}${v.syncGroup ? ` sync group ${v.syncGroup}` : ""}`,
      `State: ${v.state} since ${new Date(v.since).toISOString()}`,
      `Priority: ${v.priority} (base ${v.basePriority})`,
      `Master: ${v.master ?? "unknown"}`,
      `VIPs: ${v.vips.join(" ") || "none"}`,
      `Peer_seen: ${ago(now, v.peerSeen)}`,
      `Adverts_accepted: ${v.adverts.accepted}`,
      ...(v.fault ? [`Fault: ${v.fault}`] : []),
      "Track:",
      ...v.track.map((t) => `  ${t.ok ? "ok  " : "FAIL"} ${t.name} weight ${t.weight}: ${t.detail}`),
      `Transitions: ${v.transitionCount}`,
      ...v.transitions.map((t) => `  ${new Date(t.at).toISOString()} ${t.kind} ${t.from} -> ${t.to} (priority ${t.priority}): ${t.reason}`),
    ].join("\n"));
    const groups = s.vrrpGroups.filter((g) => name === undefined || g.instances.includes(name));
    if (groups.length) blocks.push(groups.map((g) => `Sync_group: ${g.name} ${g.state} (${g.instances.join(", ")})`).join("\n"));
    return { text: blocks.join("\n\n") };
  }

  #bgp(): CommandResult {
    const s = this.#snapshot();
    const b = s.bgp;
    if (!b) return err("BGP is not configured");
    const now = s.info.now;
    const since = (at: number) => `since ${new Date(at).toISOString()} (${ago(now, at)})`;
    const lines = [`Local_AS: ${b.localAs}`, `Router_ID: ${b.routerId}`, "Peers:"];
    for (const p of b.peers) {
      const up = p.state === "established";
      lines.push(`  ${p.peer} AS ${p.as}: ${p.state} ${since(p.since)}${up ? `, hold ${p.holdTime}s, peer ID ${p.peerId}, next hop ${p.localAddress}` : ""}`);
      lines.push(`    announced: ${p.announced.join(" ") || "nothing"}; established ${p.established} time(s)`);
      if (p.lastError) lines.push(`    last error: ${p.lastError}`);
      if (p.lastNotification) lines.push(`    last notification: ${p.lastNotification.direction} ${p.lastNotification.text} (${ago(now, p.lastNotification.at)})`);
    }
    lines.push("Announce:");
    for (const a of b.announce) lines.push(`  ${a.prefix}: ${a.state} ${since(a.since)}: ${a.reason} (checks ${a.proxies.join(", ")})`);
    return { text: lines.join("\n") };
  }

  #table(proxy?: string): CommandResult {
    const p = this.#services.proxy;
    const s = this.#snapshot();
    if (!proxy) {
      const withTable = s.backends.filter((b) => p?.stickTable?.(b.name) !== undefined);
      return { text: withTable.map((b) => `# table: ${b.name}, used: ${b.stickEntries}`).join("\n") };
    }
    if (!s.backends.some((b) => b.name === proxy)) return err(`No such table: ${proxy}`);
    const entries = p?.stickTable?.(proxy);
    if (!entries) return err(`Proxy "${proxy}" has no stick table`);
    const lines = [`# table: ${proxy}, used: ${entries.length}`];
    for (const e of entries) lines.push(`key=${e.key} server=${e.server} exp=${Math.max(0, Math.round(e.expiresIn))}ms`);
    return { text: lines.join("\n") };
  }

  #tls(): CommandResult {
    const t = this.#snapshot().tls;
    if (!t || (t.certificates.length === 0 && t.handshakes === 0)) return { text: "No tls: bind" };
    const rows = [["# name", "key", "not after", "days left", "file"]];
    for (const c of t.certificates) rows.push([c.name, c.keyType, c.notAfter, String(Math.floor(c.expiresIn / 86_400)), c.file]);
    const failures = Object.entries(t.failures).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
    return { text: `${table(rows)}
Handshakes: ${t.handshakes}
Handshake_failures: ${failures}
H2_connections: ${t.h2}` };
  }

  #target(spec: string): { proxy: string; server: string } | CommandResult {
    const slash = spec.indexOf("/");
    if (slash <= 0 || slash === spec.length - 1) return err(`Expected PROXY/SERVER, got "${spec}"`);
    const proxy = spec.slice(0, slash);
    const server = spec.slice(slash + 1);
    const p = this.#services.proxy;
    if (!p) return err("The proxy is not running");
    if (p.serverState(proxy, server) === undefined) return err(`No such server: ${proxy}/${server}`);
    return { proxy, server };
  }

  #setState(spec: string, state: "ready" | "drain" | "maint"): CommandResult {
    const t = this.#target(spec);
    if ("text" in t) return t;
    const set = this.#services.proxy?.setServer;
    if (!set) return err("Changing server states is not available in this build");
    set(t.proxy, t.server, { state });
    return ok();
  }

  #setWeight(spec: string, value: string): CommandResult {
    const t = this.#target(spec);
    if ("text" in t) return t;
    const problem = weightProblem(value);
    if (problem) return err(problem);
    const set = this.#services.proxy?.setServer;
    if (!set) return err("Changing weights is not available in this build");
    set(t.proxy, t.server, { weight: Number(value) });
    return ok();
  }

  #clearTable(proxy: string): CommandResult {
    const p = this.#services.proxy;
    if (!this.#snapshot().backends.some((b) => b.name === proxy)) return err(`No such table: ${proxy}`);
    const n = p?.clearStickTable?.(proxy);
    if (n === undefined) return err(`Proxy "${proxy}" has no stick table`);
    return ok();
  }

  async #demote(name?: string): Promise<CommandResult> {
    const v = this.#services.vrrp;
    const all = this.#snapshot().vrrp;
    if (!v || all.length === 0) return err("VRRP is not configured");
    const notMaster = (i: VrrpStat) => `Not demoting: VRRP instance "${i.instance}" is ${i.state}, not master`;
    if (name !== undefined || all.length === 1) {
      const one = all.find((i) => i.instance === (name ?? all[0].instance));
      if (!one) return err(noInstance(name!, all));
      if (one.state !== "master") return err(notMaster(one));
      await v.demote(one.instance);
      return ok(`VRRP instance "${one.instance}" demoted: the peer takes over`);
    }
    const demoted = await v.demote();
    if (demoted.length === 0) return err(`Not demoting: no VRRP instance is master (${all.map((i) => `${i.instance} ${i.state}`).join(", ")})`);
    return ok(demoted.map((n) => `VRRP instance "${n}" demoted: the peer takes over`).join("\n"));
  }

  async #reload(): Promise<CommandResult> {
    const reload = this.#services.reload;
    if (!reload) return err("Reload is not available in this process");
    const outcome = await reload();
    if (outcome.applied) return ok("Configuration reloaded");
    return err(["Reload failed, keeping the running configuration:", ...outcome.errors.map((e) => e.replace(/^/gm, "  "))].join("\n"));
  }
}
