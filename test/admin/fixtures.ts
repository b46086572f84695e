// A hand-made stats snapshot for the format tests (CSV, metrics): two servers, VRRP, one notifier.

import type { StatsSnapshot } from "../../src/admin/snapshot.ts";

/** A snapshot with awkward text (commas, quotes) where operators' strings can appear. */
export function sampleSnapshot(over: Partial<StatsSnapshot> = {}): StatsSnapshot {
  const now = 1_800_000_000_000;
  return {
    info: { name: "tandem", version: "0.1.0", pid: 42, role: "master", hostname: "lb1", now, startedAt: now - 60_000, uptime: 60, connections: 3, maxconn: 1000, refresh: 5000, admin: true },
    frontends: [{ name: "web", mode: "tcp", status: "OPEN", scur: 3, stot: 120, held: 0, bin: 4096, bout: 65536, rate: 2.5, listeners: [{ address: "127.0.0.1:8080", bound: true }] }],
    backends: [{
      name: "web", status: "UP", scur: 3, stot: 120, qcur: 1, bin: 5000, bout: 90_000, econ: 2, rate: 2.5, errRate: 0, weight: 1, act: 1, bck: 0, stickEntries: 4,
      servers: [
        { proxy: "web", name: "s1", address: "127.0.0.1:9001", status: "UP", weight: 1, backup: false, scur: 3, smax: 7, slim: 100, stot: 100, qcur: 1, bin: 4000, bout: 80_000, econ: 0, rate: 2.5, errRate: 0, lastChange: now - 30_000, downs: 1, check: { status: "L7OK", detail: "HTTP status 200", duration: 3, ok: true, checks: 50, failures: 2 } },
        { proxy: "web", name: "s2", address: "127.0.0.1:9002", status: "DOWN", weight: 1, backup: true, scur: 0, smax: 2, stot: 20, qcur: 0, bin: 1000, bout: 10_000, econ: 2, rate: 0, errRate: 0.1, lastChange: now - 5_000, downs: 2, check: { status: "L7STS", detail: 'HTTP status 503, "busy"', duration: 12, ok: false, checks: 50, failures: 9 } },
      ],
    }],
    vrrp: [{
      instance: "VI_1", interface: "eth0", vrid: 51, family: 4, state: "master", priority: 100, basePriority: 100, master: "192.0.2.1", vips: ["192.0.2.100/24"], since: now - 50_000,
      track: [{ name: "interface eth0", weight: 0, ok: true, detail: "up" }, { name: "proxy", weight: 0, ok: true, detail: "fine" }],
      adverts: { accepted: 10, dropped: { bad_auth: 1 } }, peerSeen: now - 2_000,
      transitions: [{ at: now - 50_000, instance: "VI_1", kind: "state", from: "backup", to: "master", priority: 100, reason: "master down" }], transitionCount: 2,
    }],
    vrrpGroups: [],
    alerts: { rules: 2, activeRules: 1, notifiers: [{ notifier: "ops", pending: 1, delivered: 5, dropped: 0, failedAttempts: 3, lastDeliveryAt: new Date(now - 10_000).toISOString() }] },
    ...over,
  };
}
