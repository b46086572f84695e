// Tracking (keepalived track_interface/track_script, plus the in-process proxy): priority or Fault.

import { readFileSync } from "node:fs";
import type { Clock, TimerHandle } from "../core/clock.ts";
import type { TrackScript, VrrpConfig } from "./config_types.ts";
import type { CommandResult } from "./notify.ts";

/** One tracked thing and its current verdict. */
export interface TrackItem {
  /** "interface eth0", "proxy", "script chk". */
  name: string;
  weight: number;
  ok: boolean;
  detail: string;
}

/** The outcome of tracking: Fault (with the reason) or an effective priority. */
export interface TrackResult {
  fault?: string;
  priority: number;
  /** Human summary of what moved the priority. */
  reason: string;
}

/**
 * keepalived weight semantics: weight 0 → Fault while failing; weight > 0 is added while the item
 * is OK; weight < 0 is added while it fails. The result is clamped to 1..254; an address owner
 * (255) keeps 255 (keepalived refuses weights there) but can still fault.
 */
export function computePriority(base: number, items: TrackItem[]): TrackResult {
  const failing0 = items.filter((i) => i.weight === 0 && !i.ok);
  if (failing0.length) return { fault: failing0.map((i) => `${i.name}: ${i.detail}`).join("; "), priority: base, reason: "fault" };
  if (base === 255) return { priority: 255, reason: "address owner" };
  let p = base;
  const moved: string[] = [];
  for (const i of items) {
    if (i.weight > 0 && i.ok) p += i.weight;
    else if (i.weight < 0 && !i.ok) p += i.weight;
    else continue;
    moved.push(`${i.name} ${i.weight > 0 ? "+" : ""}${i.weight}`);
  }
  return { priority: Math.min(254, Math.max(1, p)), reason: moved.length ? moved.join(", ") : "base priority" };
}

/** Link state from sysfs: administratively up and operstate not down. */
export function sysfsLinkUp(dev: string): { up: boolean; detail: string } {
  try {
    const flags = parseInt(readFileSync(`/sys/class/net/${dev}/flags`, "utf8"), 16);
    const oper = readFileSync(`/sys/class/net/${dev}/operstate`, "utf8").trim();
    if ((flags & 1) === 0) return { up: false, detail: "administratively down" };
    if (oper === "down" || oper === "lowerlayerdown" || oper === "notpresent") return { up: false, detail: `link ${oper}` };
    return { up: true, detail: `link ${oper}` };
  } catch {
    return { up: false, detail: "no such interface" };
  }
}

/** Where tracking reads the world (injected for tests). */
export interface TrackSources {
  linkUp(dev: string): { up: boolean; detail: string };
  /**
   * Undefined when no proxy runs in this process. `proxies`: every one, those named, or those on
   * the VIPs; minServers: per tracked backend (0: alive and listening), or per backend named.
   */
  proxyHealth?(proxies?: string[] | "bound", minServers?: number | Record<string, number>): { healthy: boolean; reason: string };
  runScript(command: string, timeoutMs: number): Promise<CommandResult>;
}

export interface TrackerOptions {
  base: number;
  track: VrrpConfig["track"];
  /** Interfaces tracked with weight 0 on top of track.interfaces (the VRRP interface itself). */
  implicitInterfaces: string[];
  clock: Clock;
  sources: TrackSources;
  /** Called when the result changes. */
  onChange: (r: TrackResult) => void;
  /** Link and proxy polling period (ms). */
  pollInterval?: number;
}

interface ScriptState {
  cfg: TrackScript;
  ok: boolean;
  successes: number;
  failures: number;
  detail: string;
  running: boolean;
  timer?: TimerHandle;
}

/** Polls links and the proxy, runs track scripts with rise/fall, and reports priority changes. */
export class Tracker {
  #o: TrackerOptions;
  #scripts: ScriptState[];
  #poll?: TimerHandle;
  #last?: TrackResult;
  #stopped = true;

  constructor(o: TrackerOptions) {
    this.#o = o;
    // Scripts start as passing so an instance does not fault before the first `fall` failures.
    this.#scripts = o.track.scripts.map((cfg) => ({ cfg, ok: true, successes: 0, failures: 0, detail: "not run yet", running: false }));
  }

  /** The tracked items now. */
  items(): TrackItem[] {
    const { track, implicitInterfaces, sources } = this.#o;
    const out: TrackItem[] = [];
    const seen = new Set<string>();
    for (const i of [...implicitInterfaces.map((name) => ({ name, weight: 0 })), ...track.interfaces]) {
      const link = sources.linkUp(i.name);
      if (seen.has(i.name) && i.weight === 0) continue;
      seen.add(i.name);
      out.push({ name: `interface ${i.name}`, weight: i.weight, ok: link.up, detail: link.detail });
    }
    if (track.proxy) {
      const h = sources.proxyHealth?.(track.proxy.proxies, track.proxy.minServers) ?? { healthy: false, reason: "no proxy running in this process" };
      const which = track.proxy.proxies === undefined ? "proxy" : `proxy ${track.proxy.proxies === "bound" ? "(bound to the VIPs)" : track.proxy.proxies.join(",")}`;
      out.push({ name: which, weight: track.proxy.weight, ok: h.healthy, detail: h.reason });
    }
    for (const s of this.#scripts) out.push({ name: `script ${s.cfg.name}`, weight: s.cfg.weight, ok: s.ok, detail: s.detail });
    return out;
  }

  /** Evaluates now and returns the result (does not call onChange). */
  evaluate(): TrackResult {
    return computePriority(this.#o.base, this.items());
  }

  /** Re-evaluates and calls onChange when fault or priority changed. */
  recheck(): void {
    const r = this.evaluate();
    const l = this.#last;
    this.#last = r;
    if (!l || l.fault !== r.fault || l.priority !== r.priority) this.#o.onChange(r);
  }

  start(): void {
    this.#stopped = false;
    this.#last = this.evaluate();
    const every = this.#o.pollInterval ?? 200;
    const poll = () => {
      this.recheck();
      this.#poll = this.#o.clock.setTimeout(poll, every);
    };
    this.#poll = this.#o.clock.setTimeout(poll, every);
    for (const s of this.#scripts) this.#schedule(s, 0);
  }

  stop(): void {
    this.#stopped = true;
    this.#poll?.cancel();
    for (const s of this.#scripts) s.timer?.cancel();
  }

  #schedule(s: ScriptState, ms: number): void {
    if (this.#stopped) return;
    s.timer = this.#o.clock.setTimeout(() => this.#run(s), Math.min(ms, 30_000));
  }

  #run(s: ScriptState): void {
    this.#schedule(s, s.cfg.interval);
    if (s.running) return; // skip overlapping runs
    s.running = true;
    this.#o.sources.runScript(s.cfg.command, s.cfg.timeout).then((r) => {
      s.running = false;
      if (this.#stopped) return;
      s.detail = r.reason;
      if (r.ok) {
        s.failures = 0;
        s.successes++;
        if (!s.ok && s.successes >= s.cfg.rise) s.ok = true;
      } else {
        s.successes = 0;
        s.failures++;
        if (s.ok && s.failures >= s.cfg.fall) s.ok = false;
      }
      this.recheck();
    });
  }
}
