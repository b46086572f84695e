// The few libc calls VRRP and BGP need (netlink, packet and raw IPv6 sockets; a TCP socket with
// options Node's net cannot set), through Node 26's node:ffi, and a readiness watch on Node's own
// event loop (libuv's uv_poll) for sockets read without an addon.

import { createRequire } from "node:module";

/** A file descriptor being watched for input; close() stops watching (it does not close the fd). */
export interface FdWatch {
  close(): void;
}

/** Synchronous libc socket calls. Each returns the C result; `errno()` explains a -1. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  bind(fd: number, addr: Uint8Array): number;
  send(fd: number, buf: Uint8Array, flags?: number): number;
  sendto(fd: number, buf: Uint8Array, flags: number, addr: Uint8Array): number;
  recv(fd: number, buf: Uint8Array, flags?: number): number;
  /** recvmsg with a struct msghdr whose pointers came from `pointer()`. */
  recvmsg(fd: number, msghdr: Uint8Array, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** getsockopt into value (its length is the buffer size); returns 0 or -1. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  connect(fd: number, addr: Uint8Array): number;
  /** poll(2) over `fds` (struct pollfd, 8 bytes each); returns how many have events. */
  poll(fds: Uint8Array, count: number, timeoutMs: number): number;
  ifNameToIndex(name: string): number;
  errno(): number;
  /**
   * The native address of a view's first byte, for pointers inside C structs (msghdr, iovec).
   * The view must be backed by an ArrayBuffer created with `new ArrayBuffer` (never moved by the GC)
   * and kept referenced while C may use the pointer.
   */
  pointer(view: Uint8Array): bigint;
  /**
   * Calls onReadable from the event loop (never inside the native callback) whenever fd has
   * input or an error pending, until close(). Level-triggered: the caller reads until EAGAIN.
   */
  watchReadable(fd: number, onReadable: () => void): FdWatch;
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

/** errno values tandem meets. */
export const ERRNO = { EPERM: 1, EINTR: 4, EBADF: 9, EAGAIN: 11 } as const;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 13: "EACCES", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL",
  90: "EMSGSIZE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 97: "EAFNOSUPPORT", 99: "EADDRNOTAVAIL", 100: "ENETDOWN",
  101: "ENETUNREACH", 104: "ECONNRESET", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH", 115: "EINPROGRESS",
};

/** The errno's name ("ECONNREFUSED"), or "errno N". */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

/** libuv's handle type of uv_poll_t, and its readable event. */
const UV_POLL = 8;
const UV_READABLE = 1;

let cached: Libc | undefined;

type Fn = (...a: unknown[]) => unknown;

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
    dlopen(path: string | null, defs: Record<string, { arguments: string[]; return: string }>): {
      functions: Record<string, Fn>;
      lib: { registerCallback(sig: { arguments: string[]; return: string }, fn: Fn): bigint };
    };
    getInt32(ptr: bigint, offset: number): number;
    getRawPointer(view: ArrayBufferView): bigint;
    getCurrentEventLoop(): bigint;
  };
  const { functions: f } = ffi.dlopen("libc.so.6", {
    socket: { arguments: ["int32", "int32", "int32"], return: "int32" },
    close: { arguments: ["int32"], return: "int32" },
    bind: { arguments: ["int32", "buffer", "uint32"], return: "int32" },
    send: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    sendto: { arguments: ["int32", "buffer", "uint64", "int32", "buffer", "uint32"], return: "int64" },
    recv: { arguments: ["int32", "buffer", "uint64", "int32"], return: "int64" },
    recvmsg: { arguments: ["int32", "buffer", "int32"], return: "int64" },
    setsockopt: { arguments: ["int32", "int32", "int32", "buffer", "uint32"], return: "int32" },
    getsockopt: { arguments: ["int32", "int32", "int32", "buffer", "buffer"], return: "int32" },
    connect: { arguments: ["int32", "buffer", "uint32"], return: "int32" },
    poll: { arguments: ["buffer", "uint64", "int32"], return: "int32" },
    if_nametoindex: { arguments: ["string"], return: "uint32" },
    __errno_location: { arguments: [], return: "pointer" },
    malloc: { arguments: ["uint64"], return: "pointer" },
    free: { arguments: ["pointer"], return: "void" },
  });

  // libuv is part of the node binary (and of the single executable): its symbols resolve from the
  // process image. One native callback serves every watch; it only schedules the JavaScript side.
  let uv: { lib: ReturnType<typeof ffi.dlopen>; onPoll: bigint; onClosed: bigint; pollSize: bigint } | undefined;
  const watches = new Map<bigint, { pending: boolean; fire: () => void }>();
  const libuv = () => {
    if (uv) return uv;
    const lib = ffi.dlopen(null, {
      uv_poll_init: { arguments: ["pointer", "pointer", "int32"], return: "int32" },
      uv_poll_start: { arguments: ["pointer", "int32", "pointer"], return: "int32" },
      uv_poll_stop: { arguments: ["pointer"], return: "int32" },
      uv_close: { arguments: ["pointer", "pointer"], return: "void" },
      uv_handle_size: { arguments: ["int32"], return: "uint64" },
    });
    const onPoll = lib.lib.registerCallback({ arguments: ["pointer", "int32", "int32"], return: "void" }, (handle: unknown) => {
      const w = watches.get(handle as bigint);
      if (!w || w.pending) return;
      w.pending = true;
      setImmediate(w.fire);
    });
    // libuv may touch the handle until its close callback: the memory is freed there.
    const onClosed = lib.lib.registerCallback({ arguments: ["pointer"], return: "void" }, (handle: unknown) => void f.free(handle));
    uv = { lib, onPoll, onClosed, pollSize: lib.functions.uv_handle_size(UV_POLL) as bigint };
    return uv;
  };

  cached = {
    socket: (d, t, p) => f.socket(d, t, p) as number,
    close: (fd) => f.close(fd) as number,
    bind: (fd, addr) => f.bind(fd, addr, addr.length) as number,
    send: (fd, buf, flags = 0) => Number(f.send(fd, buf, BigInt(buf.length), flags)),
    sendto: (fd, buf, flags, addr) => Number(f.sendto(fd, buf, BigInt(buf.length), flags, addr, addr.length)),
    recv: (fd, buf, flags = 0) => Number(f.recv(fd, buf, BigInt(buf.length), flags)),
    recvmsg: (fd, msghdr, flags) => Number(f.recvmsg(fd, msghdr, flags)),
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
    pointer: (view) => ffi.getRawPointer(view),
    watchReadable(fd, onReadable) {
      const u = libuv();
      const handle = f.malloc(u.pollSize) as bigint;
      if (!handle) throw new Error("Cannot watch a socket: out of memory");
      let rc = u.lib.functions.uv_poll_init(ffi.getCurrentEventLoop(), handle, fd) as number;
      if (rc !== 0) {
        f.free(handle);
        throw new Error(`Cannot watch fd ${fd}: uv_poll_init returned ${rc}`);
      }
      let open = true;
      const w = {
        pending: false,
        fire: () => {
          w.pending = false;
          if (open) onReadable();
        },
      };
      watches.set(handle, w);
      rc = u.lib.functions.uv_poll_start(handle, UV_READABLE, u.onPoll) as number;
      if (rc !== 0) {
        watches.delete(handle);
        u.lib.functions.uv_close(handle, u.onClosed);
        throw new Error(`Cannot watch fd ${fd}: uv_poll_start returned ${rc}`);
      }
      return {
        close() {
          if (!open) return;
          open = false;
          watches.delete(handle);
          u.lib.functions.uv_poll_stop(handle);
          u.lib.functions.uv_close(handle, u.onClosed);
        },
      };
    },
  };
  return cached;
}
