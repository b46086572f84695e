// `tandem why`: why the VIP is where it is, told from this host — the priorities with every
// tracked weight, the last adverts heard, tracked interfaces and proxy health, preemption, the
// last transition, and what the peer says over the pair link.

import type { PeerInstance, PeerState } from "./messages.ts";
import type { InstanceView } from "./vrrp_view.ts";

export interface Transition {
  from: string;
  to: string;
  reason: string;
  /** Wall ms. */
  at: number;
}

export interface WhyInput {
  /** Wall ms. */
  now: number;
  self: { hostname: string; role: string };
  instances: InstanceView[];
  transitions: ReadonlyMap<string, Transition>;
  proxyHealth?: { healthy: boolean; reason: string };
  link: { configured: boolean; state: string; lastError?: string };
  peer?: { state: PeerState; lastSeen: number };
}

const ago = (now: number, at: number) => `${Math.max(0, (now - at) / 1000).toFixed(1)}s ago`;
const upper = (s: string) => s.toUpperCase();

/** "100 = base 100 + interface eth0 +20 (up)", every tracked item with its weight and verdict. */
function priorityLine(i: { priority: number; basePriority: number; track: InstanceView["track"] }): string[] {
  const lines = [`  priority ${i.priority} (base ${i.basePriority})`];
  for (const t of i.track) {
    const effect = t.weight === 0 ? (t.ok ? "weight 0: FAULT if it fails" : "weight 0: FAULT now") : t.weight > 0 ? (t.ok ? `+${t.weight} while it passes: counted` : `+${t.weight} while it passes: not counted`) : t.ok ? `${t.weight} while it fails: not counted` : `${t.weight} while it fails: counted`;
    lines.push(`    ${t.ok ? "ok  " : "FAIL"} ${t.name}: ${t.detail} (${effect})`);
  }
  return lines;
}

/** Why this instance is in its state, comparing with the peer's instance when known. */
function verdict(i: InstanceView, peer: PeerInstance | undefined, input: WhyInput): string {
  const peerName = input.peer?.state.hostname ?? "the peer";
  if (i.state === "fault") return `it is in FAULT (${i.fault ?? "tracking failed"}): a host in FAULT never holds the VIP`;
  if (i.state === "master") {
    if (!peer) return "no advert from a router with a higher priority arrives here (the peer is down, in FAULT, or its adverts do not reach this host)";
    if (peer.state === "master") return `${peerName} is MASTER too: split brain (their adverts do not reach each other)`;
    if (peer.state === "fault") return `${peerName} is in FAULT (${peer.fault ?? "tracking failed"})`;
    if (i.priority > peer.priority) return `its priority ${i.priority} is above ${peerName}'s ${peer.priority}`;
    if (i.priority === peer.priority) return `the priorities are equal (${i.priority}); the higher primary address wins the tie (RFC 5798 §6.4.3)`;
    return `${peerName} has the higher priority (${peer.priority} > ${i.priority}) but does not preempt${peer.preempt === false ? " (preempt: false there)" : " (yet: preempt_delay or an operator's demote)"}`;
  }
  if (i.state === "backup") {
    const from = i.lastAdvert ? `adverts from ${i.lastAdvert.src} with priority ${i.lastAdvert.priority} arrive (last ${ago(input.now, i.lastAdvert.at)})` : "a master's adverts arrive";
    if (i.lastAdvert && i.lastAdvert.priority < i.priority) {
      return `${from}: lower than ours (${i.priority}), but this host does not preempt${i.preempt ? " yet (preempt_delay, or it was demoted)" : " (preempt: false)"}`;
    }
    return `${from}: at least ours (${i.priority}), so this host stays BACKUP`;
  }
  return `it is ${upper(i.state)}`;
}

/** The explanation, one line per fact. */
export function explain(input: WhyInput): string {
  const { now, self } = input;
  const out: string[] = [];
  const peerState = input.peer?.state;
  if (input.instances.length === 0) out.push(`${self.hostname} (${self.role}) runs no VRRP instance: it holds no VIP of its own.`);
  for (const i of input.instances) {
    const peer = peerState?.vrrp.find((p) => p.vrid === i.vrid);
    const holds = i.state === "master";
    out.push(`${i.instance} (VRID ${i.vrid}, VIPs ${i.vips.join(", ") || "none"}): ${holds ? `held by this host, ${self.hostname}` : i.master ? `held by ${i.master}` : "held by nobody this host knows of"}`);
    out.push(`  ${self.hostname} is ${upper(i.state)} because ${verdict(i, peer, input)}.`);
    out.push(...priorityLine(i));
    out.push(`  preemption: ${i.preempt ? `on${i.preemptDelay ? `, after ${i.preemptDelay / 1000}s` : ""}: a router with a higher priority takes the VIP as soon as its adverts arrive` : "off: the current master keeps the VIP until it fails"}`);
    out.push(`  last advert heard: ${i.lastAdvert ? `from ${i.lastAdvert.src}, priority ${i.lastAdvert.priority}, ${ago(now, i.lastAdvert.at)}` : "none since this instance started"}`);
    const t = input.transitions.get(i.instance);
    out.push(`  last change: ${t ? `${upper(t.from)} → ${upper(t.to)} ${ago(now, t.at)}: ${t.reason}` : `none since start (${ago(now, i.since)})`}`);
    if (peer) {
      out.push(`  ${peerState!.hostname} says: ${upper(peer.state)}, priority ${peer.priority} (base ${peer.basePriority})${peer.master ? `, master ${peer.master}` : ""}${peer.fault ? `, fault: ${peer.fault}` : ""}`);
      for (const tr of peer.track.filter((x) => !x.ok)) out.push(`    FAIL there: ${tr.name}: ${tr.detail} (weight ${tr.weight})`);
      if (peer.lastAdvert) out.push(`    it last heard an advert from ${peer.lastAdvert.src}, priority ${peer.lastAdvert.priority}, ${(peer.lastAdvert.ago / 1000).toFixed(1)}s before it reported`);
    }
  }
  const h = input.proxyHealth;
  out.push(`proxy here: ${h ? `${h.healthy ? "healthy" : "NOT healthy"}: ${h.reason}` : "not running"}`);
  if (!input.link.configured) out.push("pair link: not configured (pair: key, roles), so the peer's view is not known here");
  else if (peerState) {
    const seen = input.peer!.lastSeen;
    out.push(`pair link: ${input.link.state}; ${peerState.hostname} (${peerState.role}) last heard ${ago(now, seen)}; its proxy: ${peerState.healthy.ok ? "healthy" : `NOT healthy: ${peerState.healthy.reason}`}`);
  } else out.push(`pair link: ${input.link.state}${input.link.lastError ? ` (${input.link.lastError})` : ""}; the peer has not reported yet`);
  return out.join("\n");
}
