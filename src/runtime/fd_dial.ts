// Outgoing connections of the fd data path: a non-blocking connect(2), finished when epoll says
// the socket is writable (or failed: EPOLLERR, then SO_ERROR says why).

import { lookup } from "node:dns";
import { ipFamily } from "../core/address.ts";
import { ERRNO, systemCallError } from "./errno.ts";
import { FdConn } from "./fd_conn.ts";
import { io } from "./fd_io.ts";
import { SYS } from "./fd_sys.ts";
import { SOCKADDR_MAX, writeSockaddr } from "./sockaddr.ts";
import type { Conn, DialOptions, DialWaiter, TransportError } from "./transport.ts";

const SOCKET_FLAGS = SYS.SOCK_STREAM | SYS.SOCK_NONBLOCK | SYS.SOCK_CLOEXEC;

/** The sockaddr of each server address dialed, so a dial parses no address text (a proxy has few). */
const sockaddrs = new Map<string, Buffer>();
const SOCKADDRS_MAX = 4096;

/** The sockaddr of host:port, undefined when host is a name rather than an IP address. */
function sockaddrOf(host: string, port: number): Buffer | undefined {
  const key = `${host}|${port}`;
  let sa = sockaddrs.get(key);
  if (sa === undefined) {
    if (ipFamily(host) === 0) return undefined;
    const tmp = Buffer.alloc(SOCKADDR_MAX);
    sa = Buffer.from(tmp.subarray(0, writeSockaddr(tmp, host, port)));
    if (sockaddrs.size >= SOCKADDRS_MAX) sockaddrs.clear();
    sockaddrs.set(key, sa);
  }
  return sa;
}

/**
 * Connects to options.host:port (an IP address, or a name looked up first as net does). The waiter
 * is told once, never before dial returns; destroying the returned connection gives up (ECLOSED).
 */
export function fdDial(options: DialOptions, waiter: DialWaiter): Conn {
  const { host, port } = options;
  const sa = sockaddrOf(host, port);
  const conn = new FdConn(-1, null, sa !== undefined ? host : undefined, port);
  if (options.reader !== undefined) conn.useReader(options.reader);
  conn.connecting(waiter, options.timeout);
  if (sa !== undefined) start(conn, sa, host, port);
  else {
    lookup(host, (err, address) => {
      if (conn.destroyed) return;
      if (err) return conn.dialFailed(err as TransportError);
      conn.resolved(address);
      start(conn, sockaddrOf(address, port)!, address, port);
    });
  }
  return conn;
}

function start(conn: FdConn, sa: Buffer, host: string, port: number): void {
  const sys = io.sys;
  const fd = sys.socket(sa.length === 16 ? SYS.AF_INET : SYS.AF_INET6, SOCKET_FLAGS, 0);
  if (fd < 0) return conn.dialFailed(systemCallError("socket", sys.errno(), host, port));
  // Owned by conn from here: its destroy() closes it.
  conn.fd = fd;
  io.len.writeInt32LE(1, 0);
  sys.setsockopt(fd, SYS.IPPROTO_TCP, SYS.TCP_NODELAY, io.lenAt, 4);
  sa.copy(io.addr);
  if (sys.connect(fd, io.addrAt, sa.length) === 0) {
    conn.watch();
    if (!conn.destroyed) conn.connectedNow();
    return;
  }
  const errno = sys.errno();
  // EINTR: the connection goes on in the background, as with EINPROGRESS.
  if (errno !== ERRNO.EINPROGRESS && errno !== ERRNO.EINTR) return conn.dialFailed(systemCallError("connect", errno, host, port));
  conn.watch();
}
