// Virtual IP add/remove over rtnetlink (RTM_NEWADDR/RTM_DELADDR, RFC 3549), no `ip` tool needed:
// VRRP's VIPs and BGP's announced addresses, IPv6 ones without duplicate address detection.

import { networkInterfaces } from "node:os";
import { canonicalIp, expandIPv6, ipFamily } from "../core/address.ts";
import { TandemError } from "../core/errors.ts";
import { loadLibc, type Libc } from "../runtime/libc.ts";

/** One virtual address on one device. */
export interface VipSpec {
  address: string;
  prefix: number;
  dev: string;
  /** Interface label (alias) such as "eth0:1". */
  label?: string;
}

/** Adds and removes addresses; the VRRP instance only talks to this. */
export interface AddressManager {
  /** Adds the address; an address already present is not an error. Throws TandemError E_VIP. */
  add(vip: VipSpec): void;
  /** Removes the address; an absent address is not an error. Throws TandemError E_VIP. */
  remove(vip: VipSpec): void;
}

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const AF_INET = 2;
const AF_INET6 = 10;
/**
 * No duplicate address detection (RFC 4862 §5.4): a tentative address neither answers neighbour
 * solicitations nor serves as a source for a second or more, and the VIP arriving here is the
 * address moving, not a duplicate; keepalived adds its IPv6 VIPs the same way.
 */
const IFA_F_NODAD = 0x02;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const EEXIST = 17;
const EADDRNOTAVAIL = 99;

const align4 = (n: number) => (n + 3) & ~3;

function ipv4(ip: string): number[] {
  return ip.split(".").map(Number);
}

function rtattr(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(4 + data.length));
  const v = new DataView(out.buffer);
  v.setUint16(0, 4 + data.length, true);
  v.setUint16(2, type, true);
  out.set(data, 4);
  return out;
}

/** Builds the RTM_NEWADDR / RTM_DELADDR request for one IPv4 or IPv6 address (exported for tests). */
export function addressMessage(kind: "add" | "remove", vip: VipSpec, ifindex: number, seq: number): Uint8Array {
  const v6 = ipFamily(vip.address) === 6;
  const addr = v6 ? expandIPv6(vip.address) : Uint8Array.from(ipv4(vip.address));
  const attrs = [rtattr(IFA_LOCAL, addr), rtattr(IFA_ADDRESS, addr)];
  if (kind === "add" && !v6 && vip.prefix < 31) {
    const n = addr.reduce((a, b) => a * 256 + b, 0) >>> 0;
    const bcast = (n | (vip.prefix === 0 ? 0xffffffff : (1 << (32 - vip.prefix)) - 1)) >>> 0;
    attrs.push(rtattr(IFA_BROADCAST, Uint8Array.from([bcast >>> 24, (bcast >>> 16) & 255, (bcast >>> 8) & 255, bcast & 255])));
  }
  // Labels (aliases such as eth0:1) exist for IPv4 addresses only.
  if (vip.label && !v6) attrs.push(rtattr(IFA_LABEL, new TextEncoder().encode(vip.label + "\0")));
  const len = 16 + 8 + attrs.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, kind === "add" ? RTM_NEWADDR : RTM_DELADDR, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | (kind === "add" ? NLM_F_CREATE | NLM_F_EXCL : 0), true);
  v.setUint32(8, seq, true);
  // struct ifaddrmsg: family, prefixlen, flags, scope (universe), index.
  out[16] = v6 ? AF_INET6 : AF_INET;
  out[17] = vip.prefix;
  if (v6 && kind === "add") out[18] = IFA_F_NODAD;
  v.setUint32(20, ifindex, true);
  let at = 24;
  for (const a of attrs) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Address management through rtnetlink; each call is one synchronous request and its ack. */
export function netlinkAddressManager(libc: Libc = loadLibc()): AddressManager {
  let seq = 1;
  const request = (kind: "add" | "remove", vip: VipSpec): void => {
    const what = `Cannot ${kind} ${vip.address}/${vip.prefix} ${kind === "add" ? "on" : "from"} "${vip.dev}"`;
    const ifindex = libc.ifNameToIndex(vip.dev);
    if (ifindex === 0) throw new TandemError("E_VIP", `${what}: no such interface`);
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new TandemError("E_VIP", `${what}: netlink socket failed (errno ${libc.errno()})`);
    try {
      const tv = new Uint8Array(16);
      new DataView(tv.buffer).setBigInt64(0, 2n, true); // 2 s receive timeout: the kernel answers at once
      libc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv);
      const msg = addressMessage(kind, vip, ifindex, seq++);
      if (libc.send(fd, msg) < 0) throw new TandemError("E_VIP", `${what}: netlink send failed (errno ${libc.errno()})`);
      const buf = new Uint8Array(8192);
      const n = libc.recv(fd, buf);
      if (n < 0) throw new TandemError("E_VIP", `${what}: no netlink answer (errno ${libc.errno()})`);
      const v = new DataView(buf.buffer, 0, n);
      if (n < 20 || v.getUint16(4, true) !== NLMSG_ERROR) throw new TandemError("E_VIP", `${what}: unexpected netlink answer`);
      const errno = -v.getInt32(16, true);
      if (errno === 0 || (kind === "add" && errno === EEXIST) || (kind === "remove" && errno === EADDRNOTAVAIL)) return;
      throw new TandemError("E_VIP", `${what}: kernel refused (errno ${errno})`);
    } finally {
      libc.close(fd);
    }
  };
  return { add: (vip) => request("add", vip), remove: (vip) => request("remove", vip) };
}

/** True when `address` (IPv4 or IPv6) is configured on `dev` now (as seen by os.networkInterfaces). */
export function hasAddress(dev: string, address: string): boolean {
  const want = canonicalIp(address);
  return (networkInterfaces()[dev] ?? []).some((a) => canonicalIp(a.address) === want);
}

/**
 * The primary address of dev for a family (RFC 5798 §5.1.1.1, §5.1.2.1): the first IPv4 address
 * not in `exclude` (the VIPs), or for IPv6 the interface's link-local address.
 */
export function primaryAddress(dev: string, exclude: string[] = [], family: 4 | 6 = 4): string | undefined {
  const skip = new Set(exclude.map(canonicalIp));
  const list = networkInterfaces()[dev] ?? [];
  if (family === 6) return list.find((a) => a.family === "IPv6" && /^fe80:/i.test(a.address) && !skip.has(canonicalIp(a.address)))?.address;
  return list.find((a) => a.family === "IPv4" && !skip.has(a.address))?.address;
}
