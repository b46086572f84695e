// A raw IPv4 socket (one IP protocol) over the libc seam: the same code on Node and Deno.

import { ERRNO, loadLibc, SyscallError, type FdWatch, type Libc } from "./libc.ts";

/** A raw IPv4 socket: packets arrive with their IP header; send() takes a whole packet with IP_HDRINCL. */
export interface RawSocket {
  /** setsockopt(level, name): a number is passed as a C int. Throws SyscallError. */
  setOption(level: number, name: number, value: number | Uint8Array): void;
  /** Sends at once (never queued behind the event loop) to dst, a dotted quad. Throws SyscallError. */
  send(packet: Uint8Array, dst: string): void;
  /** Registers a receiver of whole IPv4 packets (each call gets its own copy). */
  onMessage(fn: (packet: Uint8Array) => void): void;
  /** Registers a receiver of receive errors (the socket stays open). */
  onError(fn: (err: Error) => void): void;
  /** Stops receiving and closes the fd. Idempotent. */
  close(): void;
}

const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
/** Larger than any packet an interface with a 1500-byte MTU delivers; longer ones are reported as truncated. */
const RECEIVE_BUFFER = 4096;
/** Packets read per readiness event before the loop gets a turn (a flood cannot starve timers). */
const READ_BATCH = 64;

/** struct sockaddr_in for dst (port 0): throws TypeError when dst is not a dotted quad. */
export function sockaddrIn(dst: string): Uint8Array {
  const parts = dst.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new TypeError(`"${dst}" is not an IPv4 address`);
  const a = new Uint8Array(16);
  new DataView(a.buffer).setUint16(0, AF_INET, true);
  a.set(parts.map(Number), 4);
  return a;
}

/**
 * Opens a raw IPv4 socket for `protocol` (needs CAP_NET_RAW), non-blocking, and starts receiving.
 * Throws SyscallError (EPERM without the capability).
 */
export function openRawSocket(protocol: number, libc: Libc = loadLibc()): RawSocket {
  const fd = libc.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw new SyscallError(`socket(AF_INET, SOCK_RAW, ${protocol})`, libc.errno());
  const messages: ((p: Uint8Array) => void)[] = [];
  const errors: ((e: Error) => void)[] = [];
  const buf = new Uint8Array(RECEIVE_BUFFER);
  let closed = false;
  const fail = (err: Error) => {
    for (const fn of errors) fn(err);
  };
  const drain = () => {
    for (let i = 0; i < READ_BATCH && !closed; i++) {
      const n = libc.recv(fd, buf, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        const errno = libc.errno();
        if (errno !== ERRNO.EAGAIN && errno !== ERRNO.EINTR) fail(new SyscallError("recv", errno));
        return;
      }
      if (n > buf.length) {
        fail(Object.assign(new Error(`Dropped a ${n}-byte packet: longer than the ${buf.length}-byte receive buffer`), { code: "E_TRUNCATED" }));
        continue;
      }
      const packet = buf.slice(0, n);
      for (const fn of messages) fn(packet);
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
    setOption(level, name, value) {
      const bytes = typeof value === "number" ? new Uint8Array(new Int32Array([value]).buffer) : value;
      if (libc.setsockopt(fd, level, name, bytes) < 0) throw new SyscallError(`setsockopt(${level}, ${name})`, libc.errno());
    },
    send(packet, dst) {
      if (closed) throw new SyscallError("sendto", ERRNO.EBADF);
      if (libc.sendto(fd, packet, MSG_DONTWAIT, sockaddrIn(dst)) < 0) throw new SyscallError(`sendto ${dst}`, libc.errno());
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
