// What every connection of the fd data path shares: the system calls, the poller, and the native
// memory the calls read and write (one receive and one send buffer, one sockaddr).

import type { FdPoller } from "./fd_poller.ts";
import type { FdSys } from "./fd_sys.ts";
import { addressText, SOCKADDR_MAX, sockaddrAddress, sockaddrPort } from "./sockaddr.ts";
import type { TransportError } from "./transport.ts";

/** Bytes per read(2), and the most one write(2) takes from the shared buffer. */
export const CHUNK = 64 * 1024;

/**
 * The shared buffers, allocated once off the V8 heap (their addresses never change) and kept for
 * the life of the process. Calls use them one at a time and copy out before returning, as net's
 * `onread` buffer is used.
 */
export interface FdIo {
  sys: FdSys;
  poller: FdPoller;
  rbuf: Buffer;
  rbufAt: bigint;
  sbuf: Buffer;
  sbufAt: bigint;
  /** CHUNK as a size_t argument. */
  chunkBig: bigint;
  addr: Buffer;
  addrAt: bigint;
  len: Buffer;
  lenAt: bigint;
}

/** Set by fdIo() before any connection exists. */
export let io!: FdIo;

/** Sets up the shared buffers (once per thread, by the transport). */
export function fdIo(sys: FdSys, poller: FdPoller): FdIo {
  if (io !== undefined) return io;
  // Explicit ArrayBuffers: their memory is never on the V8 heap (a small typed array's may be, and
  // the GC would move it), so the addresses handed to C stay valid.
  const buf = (size: number) => Buffer.from(new ArrayBuffer(size));
  const rbuf = buf(CHUNK), sbuf = buf(CHUNK), addr = buf(SOCKADDR_MAX), len = buf(4);
  io = { sys, poller, rbuf, rbufAt: sys.pointer(rbuf), sbuf, sbufAt: sys.pointer(sbuf), chunkBig: BigInt(CHUNK), addr, addrAt: sys.pointer(addr), len, lenAt: sys.pointer(len) };
  return io;
}

/** A dial that ended without a socket error: code ETIMEDOUT or ECLOSED. */
export function dialError(code: string, message: string): TransportError {
  const e = new Error(message) as TransportError;
  e.code = code;
  return e;
}

/** The local address and port of socket fd (getsockname(2)); undefined when it is closed or the call fails. */
export function localName(fd: number): { address: string | undefined; port: number } | undefined {
  if (fd < 0) return undefined;
  io.len.writeUInt32LE(SOCKADDR_MAX, 0);
  if (io.sys.getsockname(fd, io.addrAt, io.lenAt) !== 0) return undefined;
  const a = sockaddrAddress(io.addr);
  return { address: a === undefined ? undefined : addressText(a), port: sockaddrPort(io.addr) };
}
