// Split brain: both hosts MASTER for the same VRID. Seen over the pair link (the peer's state says
// master while ours does too) or from adverts (VRRP's vrrp.split_brain). A pure step() per
// evaluation: which incidents start, which end.

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
}

export interface SplitBrainInput {
  now: number;
  /** This host's instances. */
  local: { instance: string; vrid: number; master: boolean }[];
  /** The peer's instances over the link; undefined while the link is down. */
  peer: { vrid: number; master: boolean }[] | undefined;
  /** VRIDs VRRP just reported a split brain for (another master's advert arrived). */
  reports: number[];
}

export type SplitBrainChange =
  | { type: "started"; instance: string; vrid: number; source: "link" | "adverts" }
  | { type: "ended"; instance: string; vrid: number; duration: number };

/** Without the link, an incident nothing shows any more is over after this long (ms). */
export const EVIDENCE_GRACE = 3_000;

export const initialSplitBrain = (): SplitBrainState => ({ open: {} });

/**
 * Starts an incident when both are master over the link, or VRRP reported one; ends it when this
 * host is no longer master, the link shows the peer is not, or (link down) nothing showed it for
 * EVIDENCE_GRACE. Instances that are gone end their incidents.
 */
export function stepSplitBrain(state: SplitBrainState, input: SplitBrainInput): { state: SplitBrainState; changes: SplitBrainChange[] } {
  const open: Record<number, Incident> = {};
  const changes: SplitBrainChange[] = [];
  const { now } = input;
  for (const l of input.local) {
    const peerMaster = input.peer === undefined ? undefined : input.peer.some((p) => p.vrid === l.vrid && p.master);
    const reported = input.reports.includes(l.vrid);
    const seen = (l.master && peerMaster === true) || reported;
    const was = state.open[l.vrid];
    if (!was) {
      if (!seen) continue;
      const source = l.master && peerMaster === true ? "link" : "adverts";
      changes.push({ type: "started", instance: l.instance, vrid: l.vrid, source });
      const inc: Incident = { instance: l.instance, source, since: now, lastEvidence: now };
      // VRRP resolved it before we looked (this host yielded): it starts and ends now.
      if (!l.master) changes.push({ type: "ended", instance: l.instance, vrid: l.vrid, duration: 0 });
      else open[l.vrid] = inc;
      continue;
    }
    const evidence = seen ? now : was.lastEvidence;
    const over = !l.master || peerMaster === false || (peerMaster === undefined && now - evidence > EVIDENCE_GRACE);
    if (over) changes.push({ type: "ended", instance: was.instance, vrid: l.vrid, duration: Math.max(0, now - was.since) });
    else open[l.vrid] = { ...was, lastEvidence: evidence };
  }
  for (const [vrid, inc] of Object.entries(state.open)) {
    if (!input.local.some((l) => l.vrid === Number(vrid))) changes.push({ type: "ended", instance: inc.instance, vrid: Number(vrid), duration: Math.max(0, now - inc.since) });
  }
  return { state: { open }, changes };
}
