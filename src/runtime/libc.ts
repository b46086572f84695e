// Node 26's node:ffi, loaded once with its warning held back, and the few libc calls VRRP needs
// (netlink and packet sockets). The data path's calls are in fd_sys.ts.

import { createRequire } from "node:module";
import { errnoName } from "./errno.ts";

/** Synchronous libc socket calls. Each returns the C result; `errno()` explains a -1. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  send(fd: number, buf: Uint8Array, flags?: number): number;
  sendto(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array): number;
  recv(fd: number, buf: Uint8Array, flags?: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  ifNameToIndex(name: string): number;
  errno(): number;
}

/** A libc call that failed: `code` is E_SYSCALL, `errno` the C errno. */
export class SyscallError extends Error {
  readonly code = "E_SYSCALL";
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call} failed: errno ${errno}${errnoName(errno) === `E${errno}` ? "" : ` (${errnoName(errno)})`}`);
    this.name = "SyscallError";
    this.errno = errno;
  }
}

let cached: Libc | undefined;

/** The part of Node 26's node:ffi that tandem uses (the module is experimental, so typed here). */
export interface NodeFfi {
  dlopen(path: string | null, defs: Record<string, { arguments: string[]; return: string }>): {
    lib: { registerCallback(signature: { arguments: string[]; return: string }, fn: (...a: never[]) => void): bigint };
    functions: Record<string, (...a: never[]) => unknown>;
  };
  getInt32(ptr: bigint, offset: number): number;
  getRawPointer(memory: ArrayBuffer | ArrayBufferView): bigint;
  getCurrentEventLoop(): bigint;
}

let ffiModule: NodeFfi | undefined;

/**
 * node:ffi, loaded once. Throws Error when FFI is not available (Deno, a Node without node:ffi
 * or started with --no-experimental-ffi), so callers can say what needs the Node runtime.
 */
export function loadNodeFfi(): NodeFfi {
  if (ffiModule) return ffiModule;
  if ("Deno" in globalThis) throw new Error("node:ffi needs the Node runtime");
  const require = createRequire(import.meta.url);
  // node:ffi emits an ExperimentalWarning on first use: expected here, and noise in an operator's
  // log, so that one warning is held back while the module loads (every other warning passes).
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (/\bFFI\b/.test(typeof warning === "string" ? warning : warning.message)) return;
    return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    ffiModule = require("node:ffi") as NodeFfi;
  } finally {
    process.emitWarning = emitWarning;
  }
  return ffiModule;
}

/**
 * Opens libc through node:ffi. Throws Error when FFI is not available (Deno, or a Node without
 * node:ffi), so callers can report that VRRP needs the Node runtime.
 */
export function loadLibc(): Libc {
  if (cached) return cached;
  const ffi = loadNodeFfi();
  const { functions } = ffi.dlopen("libc.so.6", {
    socket: { arguments: ["int32", "int32", "int32"], return: "int32" },
    close: { arguments: ["int32"], return: "int32" },
    send: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    sendto: { arguments: ["int32", "buffer", "uint64", "int32", "buffer", "uint32"], return: "int64" },
    recv: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    setsockopt: { arguments: ["int32", "int32", "int32", "buffer", "uint32"], return: "int32" },
    if_nametoindex: { arguments: ["string"], return: "uint32" },
    __errno_location: { arguments: [], return: "pointer" },
  });
  const f = functions as Record<string, (...a: unknown[]) => unknown>;
  cached = {
    socket: (d, t, p) => f.socket(d, t, p) as number,
    close: (fd) => f.close(fd) as number,
    send: (fd, buf, flags = 0) => Number(f.send(fd, buf, BigInt(buf.length), flags)),
    sendto: (fd, buf, flags, addr) => Number(f.sendto(fd, buf, BigInt(buf.length), flags, addr, addr.length)),
    recv: (fd, buf, flags = 0) => Number(f.recv(fd, buf, BigInt(buf.length), flags)),
    setsockopt: (fd, level, name, value) => f.setsockopt(fd, level, name, value, value.length) as number,
    ifNameToIndex: (name) => f.if_nametoindex(name) as number,
    errno: () => ffi.getInt32((f.__errno_location as () => bigint)(), 0),
  };
  return cached;
}
