// libc on Deno: Deno.dlopen for the calls, a poll() on Deno's blocking-call threads for readiness.

import type { FdWatch, Libc } from "./libc_api.ts";
import { CLOCK_MONOTONIC, cString, socklen, timespecUsec } from "./c_abi.ts";

const POLLIN = 0x1;
const POLLNVAL = 0x20;
const EFD_NONBLOCK = 0x800;
const EFD_CLOEXEC = 0x80000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  poll_now: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // Runs on one of Deno's blocking-call threads and resolves a Promise: the event loop never waits.
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
} as const;

/** Libc through Deno.dlopen (needs --allow-ffi). */
export function loadDenoLibc(): Libc {
  const { symbols: c } = Deno.dlopen("libc.so.6", SYMBOLS);

  /**
   * One poll() in flight per watch, on the socket and on an eventfd that close() writes to: a
   * blocked poll() returns at once, so a closed watch never holds the process open.
   */
  const watchReadable = (fd: number, onReadable: () => void): FdWatch => {
    const wake = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0) throw new Error(`Cannot watch fd ${fd}: eventfd failed (errno ${errno()})`);
    // struct pollfd[2] { int fd; short events; short revents; }
    const fds = new Uint8Array(16);
    const v = new DataView(fds.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
    v.setInt32(8, wake, true);
    v.setInt16(12, POLLIN, true);
    let open = true;
    const loop = async () => {
      try {
        while (open) {
          v.setInt16(6, 0, true);
          v.setInt16(14, 0, true);
          const n = await c.poll(fds, 2n, -1);
          if (!open) break;
          const revents = v.getInt16(6, true);
          if (n > 0 && revents & POLLNVAL) break; // the fd was closed under us
          if (n > 0 && revents !== 0) onReadable();
          // n < 0: EINTR, poll again.
        }
      } finally {
        c.close(wake);
      }
    };
    void loop();
    return {
      close() {
        if (!open) return;
        open = false;
        c.write(wake, new Uint8Array(new BigUint64Array([1n]).buffer), 8n);
      },
    };
  };

  const errno = () => new Deno.UnsafePointerView(c.__errno_location()!).getInt32();
  return {
    socket: (d, t, p) => c.socket(d, t, p),
    close: (fd) => c.close(fd),
    bind: (fd, addr) => c.bind(fd, addr as Uint8Array<ArrayBuffer>, addr.length),
    send: (fd, buf, flags = 0) => Number(c.send(fd, buf as Uint8Array<ArrayBuffer>, BigInt(buf.length), flags)),
    sendto: (fd, buf, flags, addr) => Number(c.sendto(fd, buf as Uint8Array<ArrayBuffer>, BigInt(buf.length), flags, addr as Uint8Array<ArrayBuffer>, addr.length)),
    recv: (fd, buf, flags = 0) => Number(c.recv(fd, buf as Uint8Array<ArrayBuffer>, BigInt(buf.length), flags)),
    recvmsg: (fd, msghdr, flags) => Number(c.recvmsg(fd, msghdr as Uint8Array<ArrayBuffer>, flags)),
    setsockopt: (fd, level, name, value) => c.setsockopt(fd, level, name, value as Uint8Array<ArrayBuffer>, value.length),
    getsockopt: (fd, level, name, value) => c.getsockopt(fd, level, name, value as Uint8Array<ArrayBuffer>, socklen(value.length) as Uint8Array<ArrayBuffer>),
    connect: (fd, addr) => c.connect(fd, addr as Uint8Array<ArrayBuffer>, addr.length),
    poll: (fds, count, timeoutMs) => c.poll_now(fds as Uint8Array<ArrayBuffer>, BigInt(count), timeoutMs),
    ifNameToIndex: (name) => c.if_nametoindex(cString(name) as Uint8Array<ArrayBuffer>),
    errno,
    pointer: (view) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array<ArrayBuffer>))),
    monotonicUsec() {
      const ts = new Uint8Array(16);
      c.clock_gettime(CLOCK_MONOTONIC, ts);
      return timespecUsec(ts);
    },
    watchReadable,
  };
}
