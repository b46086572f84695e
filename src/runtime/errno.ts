// Linux errno numbers by name, and the Error a failed system call becomes (node:net's shape:
// code, errno, syscall, "connect ECONNREFUSED 127.0.0.1:9001").

/** Linux errno values (the same on x86_64 and aarch64) of the calls the data path makes. */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14,
  EBUSY: 16, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOSPC: 28, EPIPE: 32,
  ENOTSOCK: 88, EPROTONOSUPPORT: 93, EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98,
  EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103,
  ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(ERRNO).map(([name, n]) => [n, name]));

/** "ECONNRESET" for 104; "E<n>" for a number this table does not know. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `E${errno}`;
}

/** A failed system call as node:net reports one: code (errno name), errno (negative), syscall. */
export interface SystemCallError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

/** Builds the error of `syscall` failing with errno, e.g. "read ECONNRESET" or "connect ECONNREFUSED 10.0.0.1:80". */
export function systemCallError(syscall: string, errno: number, address?: string, port?: number): SystemCallError {
  const code = errnoName(errno);
  const where = address === undefined ? "" : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err = new Error(`${syscall} ${code}${where}`) as SystemCallError;
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}
