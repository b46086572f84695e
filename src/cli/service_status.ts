// The one-line status a service manager shows (`systemctl status`), folded from the daemon's events.

import type { EventBus } from "../core/events.ts";

/** What the line is made of; updated from events, read by line(). */
export interface StatusFacts {
  role: string;
  phase: "starting" | "running" | "reloading" | "stopping";
  /** Each VRRP instance's state and priority, in the order they reported. */
  vrrp: Map<string, { state: string; priority: number }>;
  /** "proxy/server" names currently down. */
  down: Set<string>;
  listenersFailed: Set<string>;
  lastReload?: { ok: boolean; errors: number };
}

/**
 * Renders facts as one line, e.g. "master, running; VRRP VI_1 MASTER (priority 100); 1 server
 * down: web/app2" (several instances: "VRRP A MASTER (priority 100), B BACKUP (priority 50)").
 */
export function statusLine(f: StatusFacts): string {
  const parts = [`${f.role}, ${f.phase}`];
  if (f.vrrp.size) parts.push(`VRRP ${[...f.vrrp].map(([name, v]) => `${name} ${v.state.toUpperCase()} (priority ${v.priority})`).join(", ")}`);
  if (f.down.size === 0) parts.push("no server down");
  else {
    const names = [...f.down].sort();
    parts.push(`${names.length} server${names.length === 1 ? "" : "s"} down: ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}`);
  }
  if (f.listenersFailed.size) parts.push(`cannot bind ${[...f.listenersFailed].sort().join(", ")}`);
  if (f.lastReload && !f.lastReload.ok) parts.push(`last reload failed (${f.lastReload.errors} error${f.lastReload.errors === 1 ? "" : "s"}), running the previous configuration`);
  return parts.join("; ");
}

/**
 * Follows the bus and calls onChange(line) whenever the line changes. `exists` tells whether a
 * server is still configured: after a reload, servers removed from the file leave the down list.
 * Returns the facts, so the daemon can set the phase around a reload and a stop.
 */
export function followStatus(
  bus: EventBus, role: string, onChange: (line: string) => void, exists: (proxy: string, server: string) => boolean = () => true,
): { facts: StatusFacts; line(): string } {
  const facts: StatusFacts = { role, phase: "starting", vrrp: new Map(), down: new Set(), listenersFailed: new Set() };
  let last = statusLine(facts);
  const changed = () => {
    const now = statusLine(facts);
    if (now === last) return;
    last = now;
    onChange(now);
  };
  bus.on("vrrp.state", (e) => {
    // A stopped instance (removed by a reload, or the daemon stopping) leaves the line.
    if (e.to === "stopped") facts.vrrp.delete(e.instance);
    else facts.vrrp.set(e.instance, { state: e.to, priority: e.priority });
    changed();
  });
  bus.on("vrrp.priority", (e) => {
    const v = facts.vrrp.get(e.instance);
    if (v) v.priority = e.priority;
    changed();
  });
  bus.on("server.down", (e) => {
    facts.down.add(`${e.proxy}/${e.server}`);
    changed();
  });
  bus.on("server.up", (e) => {
    facts.down.delete(`${e.proxy}/${e.server}`);
    changed();
  });
  bus.on("listener.failed", (e) => {
    facts.listenersFailed.add(e.address);
    changed();
  });
  bus.on("listener.bound", (e) => {
    facts.listenersFailed.delete(e.address);
    changed();
  });
  bus.on("config.reloaded", () => {
    facts.lastReload = { ok: true, errors: 0 };
    for (const name of facts.down) {
      const [proxy, server] = name.split("/");
      if (!exists(proxy, server)) facts.down.delete(name);
    }
  });
  bus.on("config.reload_failed", (e) => {
    facts.lastReload = { ok: false, errors: e.errors.length };
  });
  return { facts, line: () => (last = statusLine(facts)) };
}
