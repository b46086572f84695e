// The Error a failed system call of the fd data path becomes: node:net's shape (code, errno,
// syscall; "connect ECONNREFUSED 127.0.0.1:9001"), with the errno names of the libc seam.

import { errnoName } from "./libc_api.ts";

export { ERRNO } from "./libc_api.ts";

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
