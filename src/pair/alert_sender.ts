// Which host sends an alert about the pair: the one that holds the VIP, so operators get one
// message per fact both hosts see. The other host sends only when the VIP holder is unreachable.

import type { Role } from "../config/types.ts";

export interface SenderInput {
  /** A pair link is configured. */
  linked: boolean;
  /** The link is up, so the peer's state is known. */
  linkUp: boolean;
  role: Role;
  /** A VRRP instance here is MASTER. */
  holdsVip: boolean;
  /** An instance here is BACKUP: a master's adverts arrive, so the VIP holder is alive. */
  hearsMaster: boolean;
  /** The peer holds a VIP (link up only). */
  peerHoldsVip: boolean;
}

export interface SenderDecision {
  send: boolean;
  why: string;
}

/**
 * The rules, first match wins:
 *   no pair link                              → send
 *   link up, only this host holds a VIP       → send
 *   link up, only the peer holds one          → leave it to the peer
 *   link up, both or neither hold one         → the master role sends (split brain, or no VRRP)
 *   link down, this host holds a VIP          → send
 *   link down, a master's adverts arrive here → leave it to that master
 *   link down, nothing heard                  → send (the VIP holder is unreachable)
 */
export function pairAlertSender(i: SenderInput): SenderDecision {
  if (!i.linked) return { send: true, why: "no pair link: this host sends its alerts" };
  if (i.linkUp) {
    if (i.holdsVip && !i.peerHoldsVip) return { send: true, why: "this host holds the VIP" };
    if (!i.holdsVip && i.peerHoldsVip) return { send: false, why: "the peer holds the VIP and sends it" };
    const both = i.holdsVip ? "both hosts hold a VIP" : "neither host holds a VIP";
    return i.role === "master" ? { send: true, why: `${both}: the master role sends` } : { send: false, why: `${both}: the master role sends` };
  }
  if (i.holdsVip) return { send: true, why: "this host holds the VIP (pair link down)" };
  if (i.hearsMaster) return { send: false, why: "the VIP holder's adverts arrive: it sends (pair link down)" };
  return { send: true, why: "the VIP holder is unreachable (pair link down, no adverts)" };
}
