// This host's state as the peer receives it: who it is, its configuration's hash, its health, its
// VRRP instances and a summary of its proxy (enough for the peer's stats page and `tandem why`).

import type { Role } from "../config/types.ts";
import type { Services } from "../core/subsystem.ts";
import type { PeerInstance, PeerState } from "./messages.ts";
import type { InstanceView } from "./vrrp_view.ts";

export interface SelfInfo {
  hostname: string;
  role: Role;
  version: string;
  pid: number;
  startedAt: number;
  configHash: string;
}

/** Healthy: the proxy can carry traffic and no VRRP instance is in FAULT. */
export function localHealth(services: Services, instances: readonly InstanceView[]): { ok: boolean; reason: string } {
  const fault = instances.find((i) => i.state === "fault");
  if (fault) return { ok: false, reason: `VRRP ${fault.instance} is in FAULT: ${fault.fault ?? "tracking failed"}` };
  const h = services.proxy?.healthy();
  if (h && !h.healthy) return { ok: false, reason: h.reason };
  return { ok: true, reason: h?.reason ?? "no proxy" };
}

/** The instance as it travels (lastAdvert as an age, so the hosts' clocks need not agree). */
export function peerInstance(i: InstanceView, now: number): PeerInstance {
  return {
    instance: i.instance,
    vrid: i.vrid,
    state: i.state,
    priority: i.priority,
    basePriority: i.basePriority,
    vips: i.vips,
    master: i.master,
    fault: i.fault,
    since: i.since,
    preempt: i.preempt,
    track: i.track,
    lastAdvert: i.lastAdvert ? { src: i.lastAdvert.src, priority: i.lastAdvert.priority, ago: Math.max(0, now - i.lastAdvert.at) } : undefined,
  };
}

/** The state message for now (wall ms). */
export function buildState(self: SelfInfo, services: Services, instances: readonly InstanceView[], now: number): PeerState {
  const proxy = services.proxy?.status();
  return {
    hostname: self.hostname,
    role: self.role,
    version: self.version,
    pid: self.pid,
    startedAt: self.startedAt,
    sentAt: now,
    config: { hash: self.configHash },
    healthy: localHealth(services, instances),
    vrrp: instances.map((i) => peerInstance(i, now)),
    proxy: {
      connections: proxy?.connections ?? 0,
      frontends: (proxy?.frontends ?? []).map((f) => {
        const bound = f.listeners.filter((l) => l.bound).length;
        return { name: f.name, status: bound === f.listeners.length ? "OPEN" : bound > 0 ? "PARTIAL" : "WAITING", scur: f.active };
      }),
      backends: (proxy?.backends ?? []).map((b) => ({
        name: b.name,
        up: b.servers.filter((s) => s.state === "up" || s.state === "drain").length,
        servers: b.servers.length,
        stickEntries: b.stickEntries,
        down: b.servers.filter((s) => s.state === "down" || s.state === "maint").map((s) => `${s.name} ${s.state.toUpperCase()}`),
      })),
    },
  };
}
