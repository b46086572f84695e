// libc on Node: node:ffi for the calls, a libuv uv_poll_t on Node's own loop for readiness.

import { createRequire } from "node:module";
import type { FdWatch, Libc } from "./libc_api.ts";
import { CLOCK_MONOTONIC, socklen, timespecUsec } from "./c_abi.ts";

type Ffi = typeof import("node:ffi");
type Signature = { arguments: string[]; return: string };

const UV_POLL = 8; // uv_handle_type
const UV_READABLE = 1;

/** node:ffi, with its one-time ExperimentalWarning held back (every other warning passes). */
function requireFfi(): Ffi {
  const require = createRequire(import.meta.url);
  // Expected here, and noise in an operator's log.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (/\bFFI\b/.test(typeof warning === "string" ? warning : warning.message)) return;
    return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return require("node:ffi") as Ffi;
  } catch (err) {
    throw new Error(`libc needs node:ffi (Node 26 or later): ${(err as Error).message}`, { cause: err });
  } finally {
    process.emitWarning = emitWarning;
  }
}

const LIBC = {
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
  clock_gettime: { arguments: ["int32", "buffer"], return: "int32" },
  malloc: { arguments: ["uint64"], return: "pointer" },
  free: { arguments: ["pointer"], return: "void" },
} satisfies Record<string, Signature>;

// libuv is part of the node binary (and of the single executable built from it): its exported
// symbols resolve from the process image.
const LIBUV = {
  uv_poll_init: { arguments: ["pointer", "pointer", "int32"], return: "int32" },
  uv_poll_start: { arguments: ["pointer", "int32", "pointer"], return: "int32" },
  uv_poll_stop: { arguments: ["pointer"], return: "int32" },
  uv_close: { arguments: ["pointer", "pointer"], return: "void" },
  uv_handle_size: { arguments: ["int32"], return: "uint64" },
} satisfies Record<string, Signature>;

type Fn = (...a: unknown[]) => unknown;

/** Libc through node:ffi. Throws Error when node:ffi is missing. */
export function loadNodeLibc(): Libc {
  const ffi = requireFfi();
  const f = ffi.dlopen("libc.so.6", LIBC as never).functions as unknown as Record<keyof typeof LIBC, Fn>;
  const uvLib = ffi.dlopen(null, LIBUV as never);
  const uv = uvLib.functions as unknown as Record<keyof typeof LIBUV, Fn>;
  const pollSize = uv.uv_handle_size(UV_POLL) as bigint;

  // One native callback for every watch (registered once, never released), dispatching by handle:
  // it only schedules the JavaScript side, so microtasks run as usual and nothing throws into C.
  const watches = new Map<bigint, { pending: boolean; fire: () => void }>();
  const onPoll = uvLib.lib.registerCallback({ arguments: ["pointer", "int32", "int32"], return: "void" }, (handle: unknown) => {
    const w = watches.get(handle as bigint);
    if (!w || w.pending) return;
    w.pending = true;
    setImmediate(w.fire);
  });
  // libuv may touch the handle until its close callback: the memory is freed there.
  const onClosed = uvLib.lib.registerCallback({ arguments: ["pointer"], return: "void" }, (handle: unknown) => {
    f.free(handle);
  });

  const watchReadable = (fd: number, onReadable: () => void): FdWatch => {
    const handle = f.malloc(pollSize) as bigint;
    if (!handle) throw new Error("Cannot watch a socket: out of memory");
    let rc = uv.uv_poll_init(ffi.getCurrentEventLoop(), handle, fd) as number;
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
    rc = uv.uv_poll_start(handle, UV_READABLE, onPoll) as number;
    if (rc !== 0) {
      watches.delete(handle);
      uv.uv_close(handle, onClosed);
      throw new Error(`Cannot watch fd ${fd}: uv_poll_start returned ${rc}`);
    }
    return {
      close() {
        if (!open) return;
        open = false;
        watches.delete(handle);
        uv.uv_poll_stop(handle);
        uv.uv_close(handle, onClosed);
      },
    };
  };

  return {
    socket: (d, t, p) => f.socket(d, t, p) as number,
    close: (fd) => f.close(fd) as number,
    bind: (fd, addr) => f.bind(fd, addr, addr.length) as number,
    send: (fd, buf, flags = 0) => Number(f.send(fd, buf, BigInt(buf.length), flags)),
    sendto: (fd, buf, flags, addr) => Number(f.sendto(fd, buf, BigInt(buf.length), flags, addr, addr.length)),
    recv: (fd, buf, flags = 0) => Number(f.recv(fd, buf, BigInt(buf.length), flags)),
    recvmsg: (fd, msghdr, flags) => Number(f.recvmsg(fd, msghdr, flags)),
    setsockopt: (fd, level, name, value) => f.setsockopt(fd, level, name, value, value.length) as number,
    getsockopt: (fd, level, name, value) => f.getsockopt(fd, level, name, value, socklen(value.length)) as number,
    connect: (fd, addr) => f.connect(fd, addr, addr.length) as number,
    poll: (fds, count, timeoutMs) => f.poll(fds, BigInt(count), timeoutMs) as number,
    ifNameToIndex: (name) => f.if_nametoindex(name) as number,
    errno: () => ffi.getInt32(f.__errno_location() as bigint, 0),
    pointer: (view) => ffi.getRawPointer(view),
    monotonicUsec() {
      const ts = new Uint8Array(16);
      f.clock_gettime(CLOCK_MONOTONIC, ts);
      return timespecUsec(ts);
    },
    watchReadable,
  };
}
