// The system calls and libuv functions of the raw file-descriptor data path, through node:ffi
// (resolved from the running binary: libc and Node's own libuv), with the Linux constants they use.

import { setFlagsFromString } from "node:v8";
import { requireFfi } from "./libc_node.ts";

/**
 * Typed node:ffi functions. Pointers are BigInt addresses of memory the caller keeps alive (JS
 * Buffers allocated off the V8 heap, whose backing stores never move); sizes are BigInt (size_t).
 * Each returns the C result; errno() explains a -1. read/write return ssize_t read as int32: the
 * data path never asks for more than 2^31 bytes at once, and -1 stays -1.
 *
 * node:ffi calls functions of one to three arguments through V8's fast API calls and those of four
 * or more through a generic path that costs ~1.2 µs more per call (measured: close(-1) 0.8 µs of
 * user time, recv(-1, p, n, 0) 2.0 µs); so the hot calls are read(2) and write(2) rather than
 * recv(2)/send(2) with flags, and the four-argument ones (accept4, epoll_ctl, setsockopt) are made
 * once per connection.
 */
export interface FdSys {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: bigint, len: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: bigint, lenPtr: bigint, flags: number): number;
  connect(fd: number, addr: bigint, len: number): number;
  /** read(2): recv(2) without flags. */
  read(fd: number, buf: bigint, len: bigint): number;
  /** write(2): send(2) without flags (the socket is non-blocking; Node ignores SIGPIPE, so EPIPE comes back). */
  write(fd: number, buf: bigint, len: bigint): number;
  /** write(2) straight from a JS buffer (no copy; node:ffi's slower argument path). */
  writeBuffer(fd: number, buf: Uint8Array, len: bigint): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: bigint, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: bigint, lenPtr: bigint): number;
  getsockname(fd: number, addr: bigint, lenPtr: bigint): number;
  epollCreate1(flags: number): number;
  epollCtl(epfd: number, op: number, fd: number, event: bigint): number;
  epollWait(epfd: number, events: bigint, max: number, timeout: number): number;
  uvPollInit(loop: bigint, handle: bigint, fd: number): number;
  uvPollStart(handle: bigint, events: number, cb: bigint): number;
  uvRef(handle: bigint): void;
  uvUnref(handle: bigint): void;
  /** sizeof a libuv handle type (UV_POLL). */
  uvHandleSize(type: number): number;
  errno(): number;
  /** The address of a buffer's memory. */
  pointer(memory: ArrayBuffer | ArrayBufferView): bigint;
  /** Node's uv_loop_t* on this thread. */
  loop(): bigint;
  /** A C function pointer calling fn(handle, status, events): uv_poll_cb. */
  pollCallback(fn: (handle: bigint, status: number, events: number) => void): bigint;
}

/** Linux values (x86_64 and aarch64 agree on all of these). */
export const SYS = {
  AF_INET: 2, AF_INET6: 10,
  SOCK_STREAM: 1, SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1, SO_REUSEADDR: 2, SO_ERROR: 4, SO_REUSEPORT: 15,
  IPPROTO_TCP: 6, TCP_NODELAY: 1, IPPROTO_IPV6: 41, IPV6_V6ONLY: 26,
  SHUT_WR: 1,
  EPOLL_CLOEXEC: 0o2000000, EPOLL_CTL_ADD: 1, EPOLL_CTL_DEL: 2, EPOLL_CTL_MOD: 3,
  EPOLLIN: 0x1, EPOLLOUT: 0x4, EPOLLERR: 0x8, EPOLLHUP: 0x10, EPOLLRDHUP: 0x2000, EPOLLET: 0x80000000,
  UV_POLL: 8, UV_READABLE: 1,
} as const;

const i32 = "int32", u32 = "uint32", u64 = "uint64", ptr = "pointer";

let loaded: FdSys | undefined;
/** The libraries and callbacks handed to C: referenced for the life of the process, never collected. */
const keep: unknown[] = [];

/**
 * Resolves the calls from the running binary (libc and the libuv Node links in). Throws Error
 * when that is not possible: Deno, not Linux, a Node without node:ffi, a symbol missing.
 */
export function loadFdSys(): FdSys {
  if (loaded) return loaded;
  if ("Deno" in globalThis) throw new Error("the fd data path needs Node's node:ffi (this is Deno)");
  if (process.platform !== "linux") throw new Error(`the fd data path needs Linux (this is ${process.platform})`);
  const ffi = requireFfi();
  // Node 26.10's FFI corrupts the C heap now and then ("malloc(): unsorted double linked list
  // corrupted") when TurboFan compiles hot FFI call sites on its background thread while the main
  // thread keeps calling them: a send/recv loop crashed in 9 runs out of 10, none with compilation
  // on the main thread (or without TurboFan). Optimized code is unchanged; compiling it on the
  // main thread costs some milliseconds while the process warms up.
  setFlagsFromString("--no-concurrent-recompilation");
  const { lib, functions } = ffi.dlopen(null as unknown as string, {
    socket: { arguments: [i32, i32, i32], return: i32 },
    bind: { arguments: [i32, ptr, u32], return: i32 },
    listen: { arguments: [i32, i32], return: i32 },
    accept4: { arguments: [i32, ptr, ptr, i32], return: i32 },
    connect: { arguments: [i32, ptr, u32], return: i32 },
    read: { arguments: [i32, ptr, u64], return: i32 },
    write: { arguments: [i32, ptr, u64], return: i32 },
    shutdown: { arguments: [i32, i32], return: i32 },
    close: { arguments: [i32], return: i32 },
    setsockopt: { arguments: [i32, i32, i32, ptr, u32], return: i32 },
    getsockopt: { arguments: [i32, i32, i32, ptr, ptr], return: i32 },
    getsockname: { arguments: [i32, ptr, ptr], return: i32 },
    epoll_create1: { arguments: [i32], return: i32 },
    epoll_ctl: { arguments: [i32, i32, i32, ptr], return: i32 },
    epoll_wait: { arguments: [i32, ptr, i32, i32], return: i32 },
    __errno_location: { arguments: [], return: ptr },
    uv_poll_init: { arguments: [ptr, ptr, i32], return: i32 },
    uv_poll_start: { arguments: [ptr, i32, ptr], return: i32 },
    uv_ref: { arguments: [ptr], return: "void" },
    uv_unref: { arguments: [ptr], return: "void" },
    uv_handle_size: { arguments: [i32], return: u64 },
  });
  // The same write(2) with a JS buffer argument: large writes skip the copy into the shared buffer.
  const { functions: byBuffer } = ffi.dlopen(null as unknown as string, { write: { arguments: [i32, "buffer", u64], return: i32 } } as never);
  keep.push(lib);
  const f = functions as unknown as Record<string, (...a: unknown[]) => never>;
  // errno is thread-local: its address on this (the loop's) thread never changes.
  const errnoAt = f.__errno_location() as bigint;
  const getInt32 = ffi.getInt32;
  loaded = {
    socket: f.socket,
    bind: f.bind,
    listen: f.listen,
    accept4: f.accept4,
    connect: f.connect,
    read: f.read,
    write: f.write,
    writeBuffer: (byBuffer as unknown as Record<string, FdSys["writeBuffer"]>).write,
    shutdown: f.shutdown,
    close: f.close,
    setsockopt: f.setsockopt,
    getsockopt: f.getsockopt,
    getsockname: f.getsockname,
    epollCreate1: f.epoll_create1,
    epollCtl: f.epoll_ctl,
    epollWait: f.epoll_wait,
    uvPollInit: f.uv_poll_init,
    uvPollStart: f.uv_poll_start,
    uvRef: f.uv_ref,
    uvUnref: f.uv_unref,
    uvHandleSize: (type) => Number(f.uv_handle_size(type)),
    errno: () => getInt32(errnoAt, 0),
    pointer: (memory) => ffi.getRawPointer(memory as never) as bigint,
    loop: () => ffi.getCurrentEventLoop() as bigint,
    pollCallback: (fn) => {
      keep.push(fn);
      return lib.registerCallback({ arguments: [ptr, i32, i32], return: "void" } as never, fn as never) as bigint;
    },
  };
  return loaded;
}
