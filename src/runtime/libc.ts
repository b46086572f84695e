// The few libc calls VRRP and BGP need (netlink and packet sockets; a TCP socket with options
// Node's net cannot set), through Node 26's node:ffi.

import { createRequire } from "node:module";

/** Synchronous libc socket calls. Each returns the C result; `errno()` explains a -1. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  send(fd: number, buf: Uint8Array, flags?: number): number;
  sendto(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array): number;
  recv(fd: number, buf: Uint8Array, flags?: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** getsockopt into value (its length is the buffer size); returns 0 or -1. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  connect(fd: number, addr: Uint8Array): number;
  /** poll(2) over `fds` (struct pollfd, 8 bytes each); returns how many have events. */
  poll(fds: Uint8Array, count: number, timeoutMs: number): number;
  ifNameToIndex(name: string): number;
  errno(): number;
}

/** A libc call that failed: `code` is E_SYSCALL, `errno` the C errno. */
export class SyscallError extends Error {
  readonly code = "E_SYSCALL";
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call} failed: errno ${errno}${ERRNO_NAMES[errno] ? ` (${ERRNO_NAMES[errno]})` : ""}`);
    this.name = "SyscallError";
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 11: "EAGAIN", 13: "EACCES", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL",
  92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 97: "EAFNOSUPPORT", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH",
  104: "ECONNRESET", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH", 115: "EINPROGRESS",
};

/** The errno's name ("ECONNREFUSED"), or "errno N". */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

let cached: Libc | undefined;

/**
 * Opens libc through node:ffi. Throws Error when FFI is not available (Deno, or a Node without
 * node:ffi), so callers can report that VRRP needs the Node runtime.
 */
export function loadLibc(): Libc {
  if (cached) return cached;
  if ("Deno" in globalThis) throw new Error("libc via node:ffi needs the Node runtime");
  const require = createRequire(import.meta.url);
  // node:ffi emits an ExperimentalWarning on first use: expected here, and noise in an operator's
  // log, so that one warning is held back while the module loads (every other warning passes).
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (/\bFFI\b/.test(typeof warning === "string" ? warning : warning.message)) return;
    return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  let ffiModule: unknown;
  try {
    ffiModule = require("node:ffi");
  } finally {
    process.emitWarning = emitWarning;
  }
  const ffi = ffiModule as {
    dlopen(path: string, defs: Record<string, { arguments: string[]; return: string }>): { functions: Record<string, (...a: unknown[]) => unknown> };
    getInt32(ptr: bigint, offset: number): number;
  };
  const { functions: f } = ffi.dlopen("libc.so.6", {
    socket: { arguments: ["int32", "int32", "int32"], return: "int32" },
    close: { arguments: ["int32"], return: "int32" },
    send: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    sendto: { arguments: ["int32", "buffer", "uint64", "int32", "buffer", "uint32"], return: "int64" },
    recv: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    setsockopt: { arguments: ["int32", "int32", "int32", "buffer", "uint32"], return: "int32" },
    getsockopt: { arguments: ["int32", "int32", "int32", "buffer", "buffer"], return: "int32" },
    connect: { arguments: ["int32", "buffer", "uint32"], return: "int32" },
    poll: { arguments: ["buffer", "uint64", "int32"], return: "int32" },
    if_nametoindex: { arguments: ["string"], return: "uint32" },
    __errno_location: { arguments: [], return: "pointer" },
  });
  cached = {
    socket: (d, t, p) => f.socket(d, t, p) as number,
    close: (fd) => f.close(fd) as number,
    send: (fd, buf, flags = 0) => Number(f.send(fd, buf, BigInt(buf.length), flags)),
    sendto: (fd, buf, flags, addr) => Number(f.sendto(fd, buf, BigInt(buf.length), flags, addr, addr.length)),
    recv: (fd, buf, flags = 0) => Number(f.recv(fd, buf, BigInt(buf.length), flags)),
    setsockopt: (fd, level, name, value) => f.setsockopt(fd, level, name, value, value.length) as number,
    getsockopt: (fd, level, name, value) => {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, value.length, true);
      return f.getsockopt(fd, level, name, value, len) as number;
    },
    connect: (fd, addr) => f.connect(fd, addr, addr.length) as number,
    poll: (fds, count, timeoutMs) => f.poll(fds, BigInt(count), timeoutMs) as number,
    ifNameToIndex: (name) => f.if_nametoindex(name) as number,
    errno: () => ffi.getInt32(f.__errno_location() as bigint, 0),
  };
  return cached;
}
