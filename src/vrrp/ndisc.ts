// Unsolicited Neighbour Advertisements (RFC 4861 §7.2.6) over an AF_PACKET socket: IPv6's gratuitous
// ARP, sent for each IPv6 VIP after a takeover with the Override flag so neighbours update their cache.

import { readFileSync } from "node:fs";
import { expandIPv6 } from "../core/address.ts";
import { TandemError } from "../core/errors.ts";
import { loadLibc, type Libc } from "../runtime/libc.ts";
import { interfaceMac, type ArpSender } from "./arp.ts";
import { internetChecksum } from "./packet.ts";

const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_TARGET_LINKADDR = 2;
/** RFC 4861 §7.1.2: a receiver drops neighbour discovery messages whose hop limit is not 255. */
const ND_HOP_LIMIT = 255;
const ALL_NODES = "ff02::1";
/** RFC 2464 §7: the Ethernet address of IPv6 multicast ff02::1. */
const ALL_NODES_MAC = [0x33, 0x33, 0, 0, 0, 1];

const FLAG_ROUTER = 0x80;
const FLAG_OVERRIDE = 0x20;

/**
 * An unsolicited Neighbour Advertisement for `address` as the IPv6 packet (header included) of a
 * SOCK_DGRAM packet socket: from the address itself to all nodes, Override set, Solicited clear
 * (RFC 4861 §7.2.6), Router set when the host forwards (as keepalived does), and the target
 * link-layer address option carrying `mac`.
 */
export function unsolicitedNa(mac: Uint8Array, address: string, router = false): Uint8Array {
  const icmpLen = 24 + 8;
  const p = new Uint8Array(40 + icmpLen);
  const v = new DataView(p.buffer);
  v.setUint32(0, 6 << 28);
  v.setUint16(4, icmpLen);
  p[6] = IPPROTO_ICMPV6;
  p[7] = ND_HOP_LIMIT;
  const target = expandIPv6(address);
  const dst = expandIPv6(ALL_NODES);
  p.set(target, 8);
  p.set(dst, 24);
  const icmp = p.subarray(40);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = FLAG_OVERRIDE | (router ? FLAG_ROUTER : 0);
  icmp.set(target, 8);
  icmp[24] = ND_OPT_TARGET_LINKADDR;
  icmp[25] = 1;
  icmp.set(mac, 26);
  // The ICMPv6 checksum covers the IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1).
  const pseudo = new Uint8Array(40);
  pseudo.set(target, 0);
  pseudo.set(dst, 16);
  new DataView(pseudo.buffer).setUint32(32, icmpLen);
  pseudo[39] = IPPROTO_ICMPV6;
  const sum = internetChecksum(pseudo, icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  return p;
}

/** struct sockaddr_ll for the all-nodes multicast MAC on ifindex. */
function allNodesAddr(ifindex: number): Uint8Array {
  const a = new Uint8Array(20);
  const v = new DataView(a.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, ETH_P_IPV6, false);
  v.setInt32(4, ifindex, true);
  a[11] = 6;
  a.set(ALL_NODES_MAC, 12);
  return a;
}

/** True when the host forwards IPv6 on dev (then it advertises itself as a router, RFC 4861 §4.4). */
function forwarding(dev: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${dev}/forwarding`, "utf8").trim() === "1";
  } catch {
    return false;
  }
}

/**
 * A packet-socket sender of unsolicited Neighbour Advertisements (one socket, opened lazily), with
 * the gratuitous-ARP sender's interface so the same schedule (startGarp) runs it. Errors are thrown
 * as TandemError E_NDISC.
 */
export function packetNdiscSender(libc: Libc = loadLibc()): ArpSender {
  let fd = -1;
  return {
    send(dev, address) {
      if (fd < 0) {
        fd = libc.socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, ((ETH_P_IPV6 & 0xff) << 8) | (ETH_P_IPV6 >> 8));
        if (fd < 0) throw new TandemError("E_NDISC", `Cannot open a packet socket: errno ${libc.errno()}`);
      }
      const ifindex = libc.ifNameToIndex(dev);
      if (ifindex === 0) throw new TandemError("E_NDISC", `Cannot send a neighbour advertisement on "${dev}": no such interface`);
      const n = libc.sendto(fd, unsolicitedNa(interfaceMac(dev), address, forwarding(dev)), 0, allNodesAddr(ifindex));
      if (n < 0) throw new TandemError("E_NDISC", `Cannot send a neighbour advertisement for ${address} on "${dev}": errno ${libc.errno()}`);
    },
    close() {
      if (fd >= 0) libc.close(fd);
      fd = -1;
    },
  };
}
