// Receive validation of VRRP adverts (RFC 5798 §7.1, RFC 3768 §7.1): drop and count, never throw.

import { canonicalIp } from "../core/address.ts";
import { decodePacket, passwordKey, AUTH_NONE, AUTH_PASS, type DecodeError, type ReceivedAdvert } from "./packet.ts";
import { decodeAdvert6, type Ipv6Fields } from "./packet6.ts";

/** What the receiver compares a packet with. */
export interface ReceiveConfig {
  /** 4: whole IPv4 packets; 6: VRRPv3 payloads of a raw IPv6 socket, with their header fields. */
  family?: 4 | 6;
  version: 2 | 3;
  vrid: number;
  /** Our advert interval in ms. */
  advertInterval: number;
  auth?: { type: "pass"; password: string };
  /** The configured virtual addresses (canonical text). */
  virtualIps: string[];
  /** Addresses that are ours (primary, unicast_src): packets from them are our own, looped back. */
  ownAddresses: string[];
  /** Unicast mode: only these sources are accepted. Empty = multicast mode. */
  unicastPeers: string[];
}

/** Drop reasons: decoder reasons plus those that need the configuration. */
export type DropReason = DecodeError | "unknown_vrid" | "own_packet" | "auth_mismatch" | "interval_mismatch" | "unknown_peer";

/** Accepted-but-suspicious conditions, logged. */
export type ReceiveWarning = "address_mismatch" | "interval_mismatch";

export type ReceiveVerdict =
  | { accept: true; advert: ReceivedAdvert; warnings: { code: ReceiveWarning; detail: string }[] }
  | { accept: false; reason: DropReason; detail: string; src?: string };

/**
 * Decodes and validates one received packet against the instance configuration: a whole IPv4
 * packet, or (family 6) the payload of a raw IPv6 socket with the header fields `ip`.
 * unknown_vrid is a normal condition on a shared segment (other routers); callers should count
 * it without logging.
 */
export function validateReceived(bytes: Uint8Array, cfg: ReceiveConfig, ip?: Ipv6Fields): ReceiveVerdict {
  const decoded = cfg.family === 6 ? decodeAdvert6(bytes, ip ?? { src: "::" }) : decodePacket(bytes, cfg.version);
  if (!decoded.ok) return { accept: false, reason: decoded.reason, detail: decoded.detail, src: ip?.src };
  const a = decoded.advert;
  if (a.vrid !== cfg.vrid) return { accept: false, reason: "unknown_vrid", detail: `VRID ${a.vrid}`, src: a.src };
  const src = canonicalIp(a.src);
  if (cfg.ownAddresses.some((o) => canonicalIp(o) === src)) return { accept: false, reason: "own_packet", detail: `from our own address ${a.src}`, src: a.src };
  if (cfg.unicastPeers.length > 0 && !cfg.unicastPeers.some((p) => canonicalIp(p) === src)) {
    return { accept: false, reason: "unknown_peer", detail: `${a.src} is not a unicast peer`, src: a.src };
  }
  if (a.version === 2) {
    // RFC 3768 §7.1 / keepalived: the auth type and (PASS) the first 8 bytes must match.
    const wantType = cfg.auth ? AUTH_PASS : AUTH_NONE;
    if (a.authType !== wantType) return { accept: false, reason: "auth_mismatch", detail: `auth type ${a.authType}, expected ${wantType}`, src: a.src };
    if (cfg.auth && passwordKey(a.password ?? "") !== passwordKey(cfg.auth.password)) {
      return { accept: false, reason: "auth_mismatch", detail: "password differs", src: a.src };
    }
  }
  const warnings: { code: ReceiveWarning; detail: string }[] = [];
  if (a.advertInterval !== cfg.advertInterval) {
    const detail = `advert interval ${a.advertInterval}ms, ours ${cfg.advertInterval}ms`;
    // RFC 3768 §7.1: v2 MUST drop; RFC 5798 §6.4.2: v3 learns the master's interval.
    if (a.version === 2) return { accept: false, reason: "interval_mismatch", detail, src: a.src };
    warnings.push({ code: "interval_mismatch", detail });
  }
  const theirs = a.addresses.map(canonicalIp).sort().join(",");
  const ours = cfg.virtualIps.map(canonicalIp).sort().join(",");
  // RFC 5798 §7.1: an address-list mismatch MAY be logged; the advert is still used (priority 255 excepted).
  if (theirs !== ours) warnings.push({ code: "address_mismatch", detail: `advertised [${theirs}], configured [${ours}]` });
  return { accept: true, advert: a, warnings };
}

/** Receive counters for status(): accepted, dropped by reason, warnings by code. */
export class ReceiveStats {
  accepted = 0;
  dropped: Partial<Record<DropReason, number>> = {};
  warnings: Partial<Record<ReceiveWarning, number>> = {};

  count(v: ReceiveVerdict): void {
    if (v.accept) {
      this.accepted++;
      for (const w of v.warnings) this.warnings[w.code] = (this.warnings[w.code] ?? 0) + 1;
    } else {
      this.dropped[v.reason] = (this.dropped[v.reason] ?? 0) + 1;
    }
  }
}
