// Event rule names as the config writes them (vrrp_state_change…) mapped to bus events, lines and filters.

import type { EventMap, EventName } from "../core/events.ts";

/** `on:` names accepted in the config, and the bus event each one listens to. */
export const ALERT_EVENTS = {
  vrrp_state_change: "vrrp.state",
  server_down: "server.down",
  server_up: "server.up",
  proxy_no_server: "proxy.no_server",
  listener_failed: "listener.failed",
  config_reloaded: "config.reloaded",
  config_reload_failed: "config.reload_failed",
  job_failed: "job.failed",
  tandem_started: "tandem.started",
  tandem_stopping: "tandem.stopping",
  vrrp_split_brain: "vrrp.split_brain",
  vrrp_group_change: "vrrp.group",
  notify_dropped: "notify.dropped",
  cert_expiring: "tls.cert_expiring",
  acme_failed: "acme.failed",
  bgp_session_down: "bgp.session_down",
  bgp_withdrawn: "bgp.withdrawn",
  pair_link_up: "pair.link_up",
  pair_link_down: "pair.link_down",
  pair_refused: "pair.refused",
  pair_config_drift: "pair.config_drift",
  pair_config_same: "pair.config_same",
  pair_split_brain: "pair.split_brain",
  pair_split_brain_ended: "pair.split_brain_ended",
} as const satisfies Record<string, EventName>;

/**
 * Events both hosts of a pair see alike (the same servers, the same pair): with a pair link, only
 * the host that holds the VIP sends their alerts (src/pair/alert_sender.ts). The others are about
 * the host they happen on (its VRRP transitions, its listeners, its reloads, its jobs).
 */
export const PAIR_SCOPED: ReadonlySet<AlertEventName> = new Set<AlertEventName>([
  "server_down", "server_up", "proxy_no_server", "vrrp_split_brain", "cert_expiring",
  "pair_link_up", "pair_link_down", "pair_refused", "pair_config_drift", "pair_config_same", "pair_split_brain", "pair_split_brain_ended",
]);

export type AlertEventName = keyof typeof ALERT_EVENTS;


/** True when `name` is a known `on:` value. */
export function isAlertEvent(name: string): name is AlertEventName {
  return Object.hasOwn(ALERT_EVENTS, name);
}

/** What an event contributes to a message: one line, and template variables. */
export interface EventView {
  line: string;
  vars: { state?: string; vip?: string; proxy?: string; server?: string; instance?: string; group?: string; output?: string };
}

/** Describes a bus event for a message. */
export function viewEvent<K extends EventName>(name: K, data: EventMap[K]): EventView {
  const d = data as Record<string, unknown>;
  switch (name) {
    case "vrrp.state": {
      const v = data as EventMap["vrrp.state"];
      const vips = v.vips.join(", ");
      return {
        line: `VRRP ${v.instance}: ${v.from.toUpperCase()} → ${v.to.toUpperCase()} (priority ${v.priority}${vips ? `, VIPs ${vips}` : ""}): ${v.reason}`,
        vars: { state: v.to.toUpperCase(), vip: vips, instance: v.instance, ...(v.group ? { group: v.group } : {}) },
      };
    }
    case "vrrp.group": {
      const v = data as EventMap["vrrp.group"];
      const vips = v.vips.join(", ");
      return {
        line: `VRRP sync group ${v.group} (${v.instances.join(", ")}): ${v.from.toUpperCase()} → ${v.to.toUpperCase()}${vips ? `, VIPs ${vips}` : ""}: ${v.reason}`,
        vars: { state: v.to.toUpperCase(), vip: vips, group: v.group },
      };
    }
    case "server.down":
    case "server.up": {
      const v = data as EventMap["server.down"];
      const state = name === "server.down" ? "DOWN" : "UP";
      return { line: `server ${v.proxy}/${v.server} is ${state}: ${v.reason}${v.check ? ` (${v.check})` : ""}`, vars: { state, proxy: v.proxy, server: v.server } };
    }
    case "proxy.no_server": {
      const v = data as EventMap["proxy.no_server"];
      return { line: `proxy ${v.proxy} has no server left`, vars: { state: "NO SERVER", proxy: v.proxy } };
    }
    case "listener.failed": {
      const v = data as EventMap["listener.failed"];
      return { line: `listener ${v.proxy} ${v.address} failed: ${v.reason}`, vars: { state: "FAILED", proxy: v.proxy } };
    }
    case "config.reloaded":
      return { line: `configuration reloaded from ${String(d.file)}`, vars: { state: "RELOADED" } };
    case "config.reload_failed": {
      const v = data as EventMap["config.reload_failed"];
      return { line: `configuration reload from ${v.file} failed:\n  ${v.errors.join("\n  ")}`, vars: { state: "RELOAD FAILED", output: v.errors.join("\n") } };
    }
    case "job.failed": {
      const v = data as EventMap["job.failed"];
      return { line: `job ${v.job} failed: ${v.reason}`, vars: { state: "FAILED", output: v.reason } };
    }
    case "tandem.started": {
      const v = data as EventMap["tandem.started"];
      return { line: `tandem started as ${v.role} (pid ${v.pid})`, vars: { state: "STARTED" } };
    }
    case "tandem.stopping": {
      const v = data as EventMap["tandem.stopping"];
      return { line: `tandem stopping (${v.role}): ${v.reason}`, vars: { state: "STOPPING" } };
    }
    case "tls.cert_expiring": {
      const v = data as EventMap["tls.cert_expiring"];
      const when = v.days <= 0 ? `expired on ${v.notAfter}` : `expires in ${v.days} day${v.days === 1 ? "" : "s"} (${v.notAfter})`;
      return { line: `certificate ${v.name} (${v.file}) ${when}`, vars: { state: v.days <= 0 ? "EXPIRED" : "EXPIRING", output: v.file } };
    }
    case "acme.failed": {
      const v = data as EventMap["acme.failed"];
      return { line: `ACME order for ${v.name} (${v.domains.join(", ")}) failed: ${v.reason}; next try in ${Math.round(v.retryIn / 1000)}s`, vars: { state: "FAILED", output: v.reason } };
    }
    case "vrrp.split_brain": {
      const v = data as EventMap["vrrp.split_brain"];
      return { line: `VRRP ${v.instance}: split brain: ${v.peer} is MASTER too (priority ${v.peerPriority})`, vars: { state: "SPLIT BRAIN", instance: v.instance } };
    }
    case "pair.link_up": {
      const v = data as EventMap["pair.link_up"];
      return { line: `pair link up with the ${v.role} at ${v.address}`, vars: { state: "UP" } };
    }
    case "pair.link_down": {
      const v = data as EventMap["pair.link_down"];
      return { line: `pair link to ${v.peer} (${v.address}) down: ${v.reason}`, vars: { state: "DOWN", output: v.reason } };
    }
    case "pair.refused": {
      const v = data as EventMap["pair.refused"];
      return { line: `pair link refused ${v.address}: ${v.reason}`, vars: { state: "REFUSED", output: v.reason } };
    }
    case "pair.config_drift": {
      const v = data as EventMap["pair.config_drift"];
      return { line: `config drift: ${v.peer} runs another configuration (ours ${v.ours}, theirs ${v.theirs})${v.keys.length ? `: ${v.keys.join(", ")}` : ""}`, vars: { state: "DRIFT", output: v.keys.join("\n") } };
    }
    case "pair.config_same": {
      const v = data as EventMap["pair.config_same"];
      return { line: `config drift over: ${v.peer} runs the same configuration (${v.hash})`, vars: { state: "SAME" } };
    }
    case "pair.split_brain": {
      const v = data as EventMap["pair.split_brain"];
      return { line: `split brain: this host and ${v.peer} are both MASTER for VRID ${v.vrid} (${v.instance}), seen ${v.source === "link" ? "over the pair link" : "from adverts"}`, vars: { state: "SPLIT BRAIN" } };
    }
    case "pair.split_brain_ended": {
      const v = data as EventMap["pair.split_brain_ended"];
      return { line: `split brain over for VRID ${v.vrid} (${v.instance}) after ${(v.duration / 1000).toFixed(1)}s`, vars: { state: "RESOLVED" } };
    }
    case "notify.dropped": {
      const v = data as EventMap["notify.dropped"];
      return { line: `message ${v.id} to ${v.notifier} dropped: ${v.reason}`, vars: { state: "DROPPED", output: v.reason } };
    }
    case "bgp.session_down": {
      const v = data as EventMap["bgp.session_down"];
      return { line: `BGP session with ${v.peer} (AS ${v.as}) is down: ${v.reason}`, vars: { state: "DOWN", output: v.reason } };
    }
    case "bgp.withdrawn": {
      const v = data as EventMap["bgp.withdrawn"];
      return { line: `BGP: ${v.prefix} withdrawn: ${v.reason}`, vars: { state: "WITHDRAWN", vip: v.prefix, output: v.reason } };
    }
    default:
      return { line: `${name}: ${JSON.stringify(data)}`, vars: {} };
  }
}

/** A rule's filter: every given field must match (states: any of them, case-insensitive). */
export function matchesFilter(filter: { proxy?: string; server?: string; instance?: string; group?: string; states?: string[] }, view: EventView): boolean {
  if (filter.proxy !== undefined && view.vars.proxy !== filter.proxy) return false;
  if (filter.instance !== undefined && view.vars.instance !== filter.instance) return false;
  if (filter.group !== undefined && view.vars.group !== filter.group) return false;
  if (filter.server !== undefined && view.vars.server !== filter.server) return false;
  if (filter.states && filter.states.length > 0) {
    const state = (view.vars.state ?? "").toLowerCase();
    if (!filter.states.some((s) => s.toLowerCase() === state)) return false;
  }
  return true;
}
