// The runtime API's pair commands as text: `show peer` (the peer's state: role, VRRP, link,
// config same or differs, last seen) and the staged reload's report.

import type { PairStatus } from "../pair/status.ts";

const ago = (now: number, at: number | undefined) => (at === undefined ? "never" : `${Math.max(0, (now - at) / 1000).toFixed(1)}s ago`);

/** `show peer`, from status at wall time now. */
export function showPeer(s: PairStatus, now: number): string {
  if (!s.configured) return "No pair link: set pair.key and pair.roles (docs/config.md#pair)";
  const st = s.peer?.state;
  const lines: [string, string][] = [
    ["Peer", `${st?.hostname ?? "unknown"} (${s.peer?.address}:${s.self.port}, role ${s.peer?.role})`],
    ["Role", st?.role ?? s.peer?.role ?? "unknown"],
    ["Link", `${s.link.state}${s.link.upSince !== undefined ? ` since ${new Date(s.link.upSince).toISOString()}` : ""}${s.link.state !== "up" && s.link.lastError ? ` (${s.link.lastError})` : ""}`],
  ];
  for (const i of st?.vrrp ?? []) lines.push(["Vrrp", `${i.instance} VRID ${i.vrid} ${i.state.toUpperCase()} priority ${i.priority} (base ${i.basePriority})${i.fault ? ` fault: ${i.fault}` : ""}`]);
  if (st && st.vrrp.length === 0) lines.push(["Vrrp", "none"]);
  const c = s.config;
  const config = c.same === undefined ? "unknown (the peer has not reported)" : c.same ? `same (${c.hash.slice(0, 12)})` : `differs (ours ${c.hash.slice(0, 12)}, theirs ${c.theirs?.slice(0, 12)})${c.keys.length ? `: ${c.keys.join(", ")}${c.more ? ` (+${c.more} more)` : ""}` : ""}`;
  lines.push(["Config", config]);
  lines.push(["Healthy", st ? (st.healthy.ok ? `yes: ${st.healthy.reason}` : `NO: ${st.healthy.reason}`) : "unknown"]);
  lines.push(["Last_seen", ago(now, s.peer?.lastSeen)]);
  const r = s.replication;
  lines.push(["Stick_sent", String(r.sentEntries)], ["Stick_received", String(r.receivedEntries)], ["Stick_pending", String(r.pending)]);
  lines.push(["Replication_lag", r.lagMs === undefined ? "unknown" : `${r.lagMs.toFixed(0)}ms`]);
  if (r.lastResync) lines.push(["Last_resync", `${r.lastResync.direction} ${r.lastResync.entries} entries in ${r.lastResync.ms}ms, ${ago(now, r.lastResync.at)}`]);
  for (const b of s.splitBrain) lines.push(["Split_brain", `${b.instance} VRID ${b.vrid} since ${ago(now, b.since)} (seen ${b.source === "link" ? "over the link" : "from adverts"})`]);
  lines.push(["Alerts", `${s.alerts.send ? "sent from this host" : "left to the peer"}: ${s.alerts.why}`]);
  return lines.map(([k, v]) => `${k}: ${v}`).join("\n");
}
