// The libc seam's contract: the calls tandem makes, their errors, the errno values it knows.

/** A file descriptor being watched for input; close() stops watching (it does not close the fd). */
export interface FdWatch {
  close(): void;
}

/**
 * Synchronous libc socket calls, and a readiness watch on the runtime's event loop. Each call
 * returns the C result; `errno()` explains a -1 (read it at once, before anything else runs).
 */
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
  /** poll(2) over `fds` (struct pollfd, 8 bytes each), blocking up to timeoutMs; returns how many have events. */
  poll(fds: Uint8Array, count: number, timeoutMs: number): number;
  ifNameToIndex(name: string): number;
  errno(): number;
  /**
   * The native address of a view's first byte, for pointers inside C structs (msghdr, iovec). The
   * view must be backed by an ArrayBuffer created with `new ArrayBuffer` (off the garbage-collected
   * heap, never moved) and kept referenced while C may use the pointer.
   */
  pointer(view: Uint8Array): bigint;
  /** clock_gettime(CLOCK_MONOTONIC) in µs: what systemd compares MONOTONIC_USEC with. */
  monotonicUsec(): bigint;
  /**
   * Calls onReadable, from the event loop (never inside a native callback), whenever fd has input
   * or an error pending, until close(). Level-triggered: the caller reads until EAGAIN. The watch
   * keeps the process alive while open.
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

/** errno values tandem meets (Linux, every architecture it is built for). */
export const ERRNO = { EPERM: 1, ENOENT: 2, EINTR: 4, EBADF: 9, EAGAIN: 11, EACCES: 13, ECONNREFUSED: 111 } as const;

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 9: "EBADF", 11: "EAGAIN", 13: "EACCES", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL",
  88: "ENOTSOCK", 90: "EMSGSIZE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 97: "EAFNOSUPPORT", 99: "EADDRNOTAVAIL",
  100: "ENETDOWN", 101: "ENETUNREACH", 104: "ECONNRESET", 105: "ENOBUFS", 110: "ETIMEDOUT", 111: "ECONNREFUSED",
  113: "EHOSTUNREACH", 115: "EINPROGRESS",
};

/** The errno's name ("ECONNREFUSED"), or "errno N". */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
