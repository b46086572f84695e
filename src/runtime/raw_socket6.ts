// A raw IPv6 socket (one next-header protocol) over libc: recvmsg for the source, destination and
// hop limit that an IPv6 raw socket does not hand over in the payload (RFC 3542 ancillary data).

import { expandIPv6, formatIPv6 } from "../core/address.ts";
import { ERRNO, loadLibc, SyscallError, type FdWatch, type Libc } from "./libc.ts";

/** What the kernel reported about one received packet. */
export interface Received6 {
  src: string;
  /** From IPV6_PKTINFO: the destination address and the interface it arrived on. */
  dst?: string;
  ifindex?: number;
  /** From IPV6_HOPLIMIT: the hop limit in the packet's IPv6 header. */
  hopLimit?: number;
}

/** A raw IPv6 socket: the payload after the IPv6 header in and out, the header fields beside it. */
export interface RawSocket6 {
  /** setsockopt(level, name): a number is passed as a C int. Throws SyscallError. */
  setOption(level: number, name: number, value: number | Uint8Array): void;
  /** Binds the socket to a local address (the source of what it sends). Throws SyscallError. */
  bind(address: string, ifindex: number): void;
  /** Sends the payload to dst (scope ifindex for link-local and multicast) at once. Throws SyscallError. */
  send(payload: Uint8Array, dst: string, ifindex: number): void;
  /** Registers a receiver of payloads (each call gets its own copy). */
  onMessage(fn: (payload: Uint8Array, info: Received6) => void): void;
  /** Registers a receiver of receive errors (the socket stays open). */
  onError(fn: (err: Error) => void): void;
  /** Stops receiving and closes the fd. Idempotent. */
  close(): void;
}

export const AF_INET6 = 10;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const IPV6_MULTICAST_LOOP = 19;
export const IPV6_ADD_MEMBERSHIP = 20;
export const IPV6_V6ONLY = 26;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
/** Packets read per readiness event before the loop gets a turn (a flood cannot starve timers). */
const READ_BATCH = 64;

// One buffer for recvmsg: msghdr, iovec, the source sockaddr_in6, ancillary data, the payload.
const MSGHDR = 0, IOVEC = 64, NAME = 96, CONTROL = 128, CONTROL_LEN = 256, DATA = 512, DATA_LEN = 4096;

/** struct sockaddr_in6 for address with scope ifindex. Throws TypeError when address is not IPv6. */
export function sockaddrIn6(address: string, ifindex: number): Uint8Array {
  if (!address.includes(":")) throw new TypeError(`"${address}" is not an IPv6 address`);
  const a = new Uint8Array(28);
  const v = new DataView(a.buffer);
  v.setUint16(0, AF_INET6, true);
  a.set(expandIPv6(address), 8);
  v.setUint32(24, ifindex, true);
  return a;
}

/** struct ipv6_mreq: the group to join on ifindex (IPV6_ADD_MEMBERSHIP). */
export function ipv6Mreq(group: string, ifindex: number): Uint8Array {
  const m = new Uint8Array(20);
  m.set(expandIPv6(group), 0);
  new DataView(m.buffer).setUint32(16, ifindex, true);
  return m;
}

/** Reads the ancillary data of one recvmsg (cmsghdr: 8-byte length, level, type, data; 8-byte aligned). */
export function parseControl(control: Uint8Array): Pick<Received6, "dst" | "ifindex" | "hopLimit"> {
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const out: Pick<Received6, "dst" | "ifindex" | "hopLimit"> = {};
  for (let at = 0; at + 16 <= control.length;) {
    const len = Number(v.getBigUint64(at, true));
    if (len < 16 || at + len > control.length) break;
    const level = v.getInt32(at + 8, true);
    const type = v.getInt32(at + 12, true);
    if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= 16 + 20) {
      out.dst = formatIPv6(control.subarray(at + 16, at + 32));
      out.ifindex = v.getUint32(at + 32, true);
    } else if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len >= 16 + 4) {
      out.hopLimit = v.getInt32(at + 16, true);
    }
    at += (len + 7) & ~7;
  }
  return out;
}

/**
 * Opens a raw IPv6 socket for `protocol` (needs CAP_NET_RAW), non-blocking, asking for each
 * packet's hop limit and destination, and starts receiving. Throws SyscallError.
 */
export function openRawSocket6(protocol: number, libc: Libc = loadLibc()): RawSocket6 {
  const fd = libc.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw new SyscallError(`socket(AF_INET6, SOCK_RAW, ${protocol})`, libc.errno());
  const int = (n: number) => new Uint8Array(new Int32Array([n]).buffer);
  const setOption = (level: number, name: number, value: number | Uint8Array) => {
    if (libc.setsockopt(fd, level, name, typeof value === "number" ? int(value) : value) < 0) throw new SyscallError(`setsockopt(${level}, ${name})`, libc.errno());
  };
  try {
    setOption(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    setOption(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  // Allocated with `new ArrayBuffer` (off the V8 heap, never moved) and kept for the socket's life.
  const mem = new Uint8Array(new ArrayBuffer(DATA + DATA_LEN));
  const hdr = new DataView(mem.buffer);
  hdr.setBigUint64(MSGHDR + 0, libc.pointer(mem.subarray(NAME)), true);
  hdr.setBigUint64(MSGHDR + 16, libc.pointer(mem.subarray(IOVEC)), true);
  hdr.setBigUint64(MSGHDR + 24, 1n, true);
  hdr.setBigUint64(MSGHDR + 32, libc.pointer(mem.subarray(CONTROL)), true);
  hdr.setBigUint64(IOVEC + 0, libc.pointer(mem.subarray(DATA)), true);
  hdr.setBigUint64(IOVEC + 8, BigInt(DATA_LEN), true);
  const messages: ((p: Uint8Array, info: Received6) => void)[] = [];
  const errors: ((e: Error) => void)[] = [];
  let closed = false;
  const fail = (err: Error) => {
    for (const fn of errors) fn(err);
  };
  const drain = () => {
    for (let i = 0; i < READ_BATCH && !closed; i++) {
      hdr.setUint32(MSGHDR + 8, 28, true);
      hdr.setBigUint64(MSGHDR + 40, BigInt(CONTROL_LEN), true);
      hdr.setInt32(MSGHDR + 48, 0, true);
      const n = libc.recvmsg(fd, mem.subarray(MSGHDR, MSGHDR + 56), MSG_DONTWAIT);
      if (n < 0) {
        const errno = libc.errno();
        if (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR) fail(new SyscallError("recvmsg", errno));
        return;
      }
      if ((hdr.getInt32(MSGHDR + 48, true) & MSG_TRUNC) !== 0) {
        fail(Object.assign(new Error(`Dropped a packet longer than the ${DATA_LEN}-byte receive buffer`), { code: "E_TRUNCATED" }));
        continue;
      }
      const controlLen = Number(hdr.getBigUint64(MSGHDR + 40, true));
      const info: Received6 = { src: formatIPv6(mem.subarray(NAME + 8, NAME + 24)), ...parseControl(mem.subarray(CONTROL, CONTROL + Math.min(controlLen, CONTROL_LEN))) };
      const payload = mem.slice(DATA, DATA + n);
      for (const fn of messages) fn(payload, info);
    }
  };
  let watch: FdWatch;
  try {
    watch = libc.watchReadable(fd, drain);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  return {
    setOption,
    bind(address, ifindex) {
      if (libc.bind(fd, sockaddrIn6(address, ifindex)) < 0) throw new SyscallError(`bind ${address}`, libc.errno());
    },
    send(payload, dst, ifindex) {
      if (closed) throw new SyscallError("sendto", ERRNO.EBADF);
      if (libc.sendto(fd, payload, MSG_DONTWAIT, sockaddrIn6(dst, ifindex)) < 0) throw new SyscallError(`sendto ${dst}`, libc.errno());
    },
    onMessage: (fn) => void messages.push(fn),
    onError: (fn) => void errors.push(fn),
    close() {
      if (closed) return;
      closed = true;
      watch.close();
      libc.close(fd);
    },
  };
}
