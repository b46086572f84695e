// The VRRP subsystem: builds the instance from ctx.config.vrrp, real I/O, and ctx.services.vrrp.

import { isIPv4 } from "node:net";
import type { BaseConfig } from "../config/types.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import { TandemError } from "../core/errors.ts";
import type { VrrpConfig } from "./config.ts";
import { VrrpInstance, type InstanceIo, type InstanceStatus } from "./instance.ts";
import { openRawTransport } from "./socket.ts";
import { netlinkAddressManager, primaryAddress, hasAddress } from "./ip_address.ts";
import { packetArpSender } from "./arp.ts";
import { sysfsLinkUp } from "./track.ts";
import { runCommand } from "./notify.ts";

/** What the VRRP subsystem reads of the resolved config. */
export type VrrpSubsystemConfig = BaseConfig & { vrrp?: VrrpConfig };

/** What the VRRP subsystem offers the others (ctx.services.vrrp). */
export interface VrrpService {
  /** The instance's state, or `enabled: false` while none runs. */
  status(): InstanceStatus | { enabled: false };
  /** Gives up mastership now (priority 0 advert), as on stop. */
  demote(): Promise<void>;
}

declare module "../core/subsystem.ts" {
  interface Services {
    vrrp?: VrrpService;
  }
}

/** Addresses the instance derives from the config and the interface. */
export interface VrrpAddressing {
  /** Source of adverts: unicast_src, else the interface's first non-VIP IPv4 address. */
  src: string;
  /** Validated unicast peers (empty = multicast). */
  peers: string[];
  /** A VIP is the interface's own primary address (RFC 5798 address owner, priority 255). */
  owner: boolean;
}

/**
 * Works out source, peers and ownership. Throws TandemError E_VRRP_CONFIG when the interface has
 * no IPv4 address, or when unicast is configured without one valid peer (never a silent
 * fallback to multicast).
 */
export function resolveAddressing(cfg: VrrpConfig, interfacePrimary: (dev: string, exclude: string[]) => string | undefined = primaryAddress): VrrpAddressing {
  const vips = cfg.virtualIps.map((v) => v.cidr.address);
  const first = interfacePrimary(cfg.interface, []);
  const owner = first !== undefined && vips.includes(first);
  const primary = owner ? first : interfacePrimary(cfg.interface, vips);
  const src = cfg.unicastSrc ?? primary;
  if (!src) throw new TandemError("E_VRRP_CONFIG", `Cannot run VRRP instance "${cfg.name}" on "${cfg.interface}": the interface has no IPv4 address`);
  if (cfg.unicastSrc !== undefined && !isIPv4(cfg.unicastSrc)) {
    throw new TandemError("E_VRRP_CONFIG", `VRRP unicast_src "${cfg.unicastSrc}" is not an IPv4 address`);
  }
  const unicast = cfg.unicastSrc !== undefined || cfg.unicastPeers.length > 0;
  const peers = cfg.unicastPeers.filter((p) => isIPv4(p) && p !== src && !vips.includes(p));
  if (unicast && peers.length === 0) {
    const given = cfg.unicastPeers.length ? `[${cfg.unicastPeers.join(", ")}]` : "none";
    throw new TandemError("E_VRRP_CONFIG", `VRRP instance "${cfg.name}" is in unicast mode but has no valid unicast peer (given: ${given}; a peer must be an IPv4 address other than unicast_src ${src} and the VIPs)`);
  }
  return { src, peers, owner };
}

/** Builds the real I/O: raw socket, netlink addresses, packet-socket ARP, sysfs links, the proxy. */
export function realIo(cfg: VrrpConfig, addressing: VrrpAddressing, ctx: SubsystemContext<VrrpSubsystemConfig>): InstanceIo {
  return {
    transport: openRawTransport({ interface: cfg.interface, src: addressing.src, unicastPeers: addressing.peers }),
    addresses: netlinkAddressManager(),
    arp: packetArpSender(),
    track: {
      linkUp: sysfsLinkUp,
      proxyHealth: ctx.services.proxy ? (p, n) => ctx.services.proxy!.healthy(p, n) : undefined,
      runScript: (command, timeout) => runCommand(command, [], timeout),
    },
  };
}

/** Network identity: when it changes, a reload restarts the instance. */
function identity(c: VrrpConfig): string {
  return JSON.stringify([c.interface, c.vrid, c.version, c.advertInterval, c.auth, c.virtualIps, c.unicastSrc, c.unicastPeers, c.garp]);
}

/**
 * The VRRP subsystem. Does nothing when the config has no `vrrp` section. Fills
 * ctx.services.vrrp with status() and demote(). `makeIo` replaces the real I/O (tests).
 */
export function createVrrpSubsystem(ctx: SubsystemContext<VrrpSubsystemConfig>, makeIo: typeof realIo = realIo): Subsystem<VrrpSubsystemConfig> {
  const log = ctx.log.child("vrrp");
  let config = ctx.config;
  let instance: VrrpInstance | undefined;
  let leftovers: string[] = [];

  const startInstance = (cfg: VrrpConfig): void => {
    const addressing = resolveAddressing(cfg);
    if (!addressing.owner) {
      // VIPs left behind by a killed process would keep answering ARP: a new instance starts clean.
      leftovers = cfg.virtualIps.filter((v) => hasAddress(v.dev ?? cfg.interface, v.cidr.address)).map((v) => v.cidr.address);
    }
    const io = makeIo(cfg, addressing, ctx);
    for (const address of leftovers) {
      const vip = cfg.virtualIps.find((v) => v.cidr.address === address)!;
      log.warn(`Removing ${address} left on "${vip.dev ?? cfg.interface}" by an earlier run`, { instance: cfg.name });
      try {
        io.addresses.remove({ address, prefix: vip.cidr.prefix, dev: vip.dev ?? cfg.interface, label: vip.label });
      } catch (err) {
        log.error((err as Error).message);
      }
    }
    instance = new VrrpInstance(cfg, { clock: ctx.clock, bus: ctx.bus, log, io, primaryIp: addressing.src, owner: addressing.owner });
    log.info(`VRRP instance "${cfg.name}" on ${cfg.interface}: VRID ${cfg.vrid}, v${cfg.version}, priority ${addressing.owner ? 255 : cfg.priority}, ${addressing.peers.length ? `unicast to ${addressing.peers.join(", ")}` : "multicast"} from ${addressing.src}`);
    instance.start();
  };

  // A split brain seen over the pair link is over: the host that kept the VIP says so again (GARP).
  ctx.bus.on("pair.split_brain_ended", (e) => {
    if (instance?.name === e.instance) instance.regarp();
  });

  ctx.services.vrrp = {
    status: () => (instance ? instance.status() : { enabled: false }),
    async demote() {
      instance?.demote();
    },
  };

  return {
    name: "vrrp",
    async start() {
      if (config.vrrp) startInstance(config.vrrp);
    },
    async reload(next: VrrpSubsystemConfig) {
      const before = config.vrrp;
      config = next;
      const after = next.vrrp;
      if (instance && before && after && identity(before) === identity(after)) {
        instance.update(after);
        return;
      }
      if (instance) await instance.stop("reload");
      instance = undefined;
      if (after) startInstance(after);
    },
    async stop(reason: string) {
      if (!instance) return;
      await instance.stop(reason);
    },
  };
}
