// Where an instance's adverts come from and go to, worked out from its config and its interface,
// and the real I/O built on that (raw sockets, netlink, gratuitous ARP or neighbour advertisements).

import { canonicalIp, ipFamily } from "../core/address.ts";
import type { SubsystemContext } from "../core/subsystem.ts";
import { TandemError } from "../core/errors.ts";
import type { BaseConfig } from "../config/types.ts";
import type { VrrpConfig, VrrpSectionConfig } from "./config_types.ts";
import { boundProxies, type ProxyView } from "./config.ts";
import type { InstanceIo } from "./instance.ts";
import { openRawTransport } from "./socket.ts";
import { openRawTransport6 } from "./socket6.ts";
import { netlinkAddressManager, primaryAddress } from "./ip_address.ts";
import { packetArpSender } from "./arp.ts";
import { packetNdiscSender } from "./ndisc.ts";
import { sysfsLinkUp } from "./track.ts";
import { runCommand } from "./notify.ts";

/** What the VRRP subsystem reads of the resolved config: its section and the proxies' binds. */
export type VrrpSubsystemConfig = BaseConfig & ProxyView & { vrrp?: VrrpSectionConfig };

/** Addresses the instance derives from the config and the interface. */
export interface VrrpAddressing {
  /** Source of adverts: unicast_src, else the interface's primary address (IPv6: its link-local one). */
  src: string;
  /** Validated unicast peers (empty = multicast). */
  peers: string[];
  /** A VIP is the interface's own primary address (RFC 5798 address owner, priority 255). */
  owner: boolean;
}

/**
 * Works out source, peers and ownership. Throws TandemError E_VRRP_CONFIG when the interface has
 * no address of the instance's family (IPv6: no link-local address), or when unicast is configured
 * without one valid peer (never a silent fallback to multicast).
 */
export function resolveAddressing(
  cfg: VrrpConfig,
  interfacePrimary: (dev: string, exclude: string[], family: 4 | 6) => string | undefined = primaryAddress,
): VrrpAddressing {
  const family = cfg.family ?? 4;
  const vips = cfg.virtualIps.map((v) => canonicalIp(v.cidr.address));
  const first = interfacePrimary(cfg.interface, [], family);
  const owner = first !== undefined && vips.includes(canonicalIp(first));
  const primary = owner ? first : interfacePrimary(cfg.interface, vips, family);
  const src = cfg.unicastSrc ?? primary;
  const kind = family === 6 ? "IPv6 link-local address" : "IPv4 address";
  if (!src) throw new TandemError("E_VRRP_CONFIG", `Cannot run VRRP instance "${cfg.name}" on "${cfg.interface}": the interface has no ${kind}`);
  if (cfg.unicastSrc !== undefined && ipFamily(cfg.unicastSrc) !== family) {
    throw new TandemError("E_VRRP_CONFIG", `VRRP unicast_src "${cfg.unicastSrc}" is not an IPv${family} address`);
  }
  const unicast = cfg.unicastSrc !== undefined || cfg.unicastPeers.length > 0;
  const peers = cfg.unicastPeers.filter((p) => ipFamily(p) === family && canonicalIp(p) !== canonicalIp(src) && !vips.includes(canonicalIp(p)));
  if (unicast && peers.length === 0) {
    const given = cfg.unicastPeers.length ? `[${cfg.unicastPeers.join(", ")}]` : "none";
    throw new TandemError("E_VRRP_CONFIG", `VRRP instance "${cfg.name}" is in unicast mode but has no valid unicast peer (given: ${given}; a peer must be an IPv${family} address other than unicast_src ${src} and the VIPs)`);
  }
  return { src, peers, owner };
}


/**
 * Builds the real I/O: a raw socket per family, netlink addresses, gratuitous ARP (IPv4) or
 * unsolicited neighbour advertisements (IPv6) over a packet socket, sysfs links, the proxy.
 * `config()` is read at each proxy check, so a reload's proxies are seen.
 */
export function realIo(cfg: VrrpConfig, addressing: VrrpAddressing, ctx: SubsystemContext<VrrpSubsystemConfig>, config: () => VrrpSubsystemConfig = () => ctx.config): InstanceIo {
  const opts = { interface: cfg.interface, src: addressing.src, unicastPeers: addressing.peers };
  const six = (cfg.family ?? 4) === 6;
  return {
    transport: six ? openRawTransport6({ ...opts, bindSrc: cfg.unicastSrc !== undefined }) : openRawTransport(opts),
    addresses: netlinkAddressManager(),
    arp: six ? packetNdiscSender() : packetArpSender(),
    track: {
      linkUp: sysfsLinkUp,
      // "bound": the proxies on this instance's VIPs (part of its identity) in the config now.
      proxyHealth: ctx.services.proxy ? (p, n) => ctx.services.proxy!.healthy(p === "bound" ? boundProxies(cfg, config()) : p, n) : undefined,
      runScript: (command, timeout) => runCommand(command, [], timeout),
    },
  };
}
