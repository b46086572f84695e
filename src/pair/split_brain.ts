// Split brain: both hosts MASTER for the same VRID for longer than a preemption takes. Seen over
// the pair link (the peer's state says master while ours does too) or from adverts (VRRP reports
// another master's advert, and this host kept the VIP after being master for a while: the other
// was master without hearing us). A pure step() per evaluation: which incidents start and end.
//
// A preemption makes both hosts master for a moment (the new master's first advert, the old one
// yielding on it), and VRRP reports that as a split brain too: the grace period leaves it out.

/** One VRID's incident while it lasts. */
export interface Incident {
  instance: string;
  source: "link" | "adverts";
  /** Monotonic ms it started, and the last time something still showed it. */
  since: number;
  lastEvidence: number;
}

export interface SplitBrainState {
  /** Open incidents by VRID. */
  open: Record<number, Incident>;
  /** Since when the link shows both as master (not yet an incident), by VRID. */
  candidates: Record<number, number>;
}

export interface LocalInstance {
  instance: string;
  vrid: number;
  master: boolean;
  /** ms this host has been master (0 when it is not). */
  masterFor: number;
  /** How long both may be master before it counts: a preemption's overlap is shorter. */
  grace: number;
}

export interface SplitBrainInput {
  /** Monotonic ms. */
  now: number;
  local: LocalInstance[];
  /** The peer's instances over the link; undefined while the link is down. */
  peer: { vrid: number; master: boolean }[] | undefined;
  /** VRIDs whose VRRP just heard another master's advert with a lower priority (this host kept the VIP). */
  reports: number[];
}

export type SplitBrainChange =
  | { type: "started"; instance: string; vrid: number; source: "link" | "adverts" }
  | { type: "ended"; instance: string; vrid: number; duration: number };

/** Without the link, an incident nothing shows any more is over after this long (ms). */
export const EVIDENCE_GRACE = 3_000;

export const initialSplitBrain = (): SplitBrainState => ({ open: {}, candidates: {} });

/**
 * Starts an incident when the link shows both as master for longer than the grace period, or VRRP
 * reports a lower master after this host was master longer than it; ends it when this host is no
 * longer master, the link shows the peer is not, or (link down) nothing showed it for
 * EVIDENCE_GRACE. Instances that are gone end their incidents.
 */
export function stepSplitBrain(state: SplitBrainState, input: SplitBrainInput): { state: SplitBrainState; changes: SplitBrainChange[] } {
  const open: Record<number, Incident> = {};
  const candidates: Record<number, number> = {};
  const changes: SplitBrainChange[] = [];
  const { now } = input;
  for (const l of input.local) {
    const peerMaster = input.peer === undefined ? undefined : input.peer.some((p) => p.vrid === l.vrid && p.master);
    const both = l.master && peerMaster === true;
    if (both) candidates[l.vrid] = state.candidates[l.vrid] ?? now;
    const byLink = both && now - candidates[l.vrid] >= l.grace;
    const byAdverts = l.master && l.masterFor >= l.grace && input.reports.includes(l.vrid);
    const was = state.open[l.vrid];
    if (!was) {
      if (!byLink && !byAdverts) continue;
      const source = byLink ? "link" : "adverts";
      changes.push({ type: "started", instance: l.instance, vrid: l.vrid, source });
      open[l.vrid] = { instance: l.instance, source, since: byLink ? candidates[l.vrid] : now, lastEvidence: now };
      continue;
    }
    const evidence = both || byAdverts ? now : was.lastEvidence;
    const over = !l.master || peerMaster === false || (peerMaster === undefined && now - evidence > EVIDENCE_GRACE);
    if (over) changes.push({ type: "ended", instance: was.instance, vrid: l.vrid, duration: Math.max(0, now - was.since) });
    else open[l.vrid] = { ...was, lastEvidence: evidence };
  }
  for (const [vrid, inc] of Object.entries(state.open)) {
    if (!input.local.some((l) => l.vrid === Number(vrid))) changes.push({ type: "ended", instance: inc.instance, vrid: Number(vrid), duration: Math.max(0, now - inc.since) });
  }
  return { state: { open, candidates }, changes };
}
