// Outgoing connections of the fd data path: a non-blocking connect(2), finished when epoll says
// the socket is writable (or failed: EPOLLERR, then SO_ERROR says why).

import { lookup } from "node:dns";
import { ipFamily } from "../core/address.ts";
import { ERRNO, systemCallError } from "./errno.ts";
import { FdConn } from "./fd_conn.ts";
import { io } from "./fd_io.ts";
import { SYS } from "./fd_sys.ts";
import { writeSockaddr } from "./sockaddr.ts";
import type { Conn, DialOptions, DialWaiter, TransportError } from "./transport.ts";

const SOCKET_FLAGS = SYS.SOCK_STREAM | SYS.SOCK_NONBLOCK | SYS.SOCK_CLOEXEC;

/**
 * Connects to options.host:port (an IP address, or a name looked up first as net does). The waiter
 * is told once, never before dial returns; destroying the returned connection gives up (ECLOSED).
 */
export function fdDial(options: DialOptions, waiter: DialWaiter): Conn {
  const { host, port } = options;
  const literal = ipFamily(host) !== 0;
  const conn = new FdConn(-1, null, literal ? host : undefined, port);
  if (options.reader !== undefined) conn.useReader(options.reader);
  conn.connecting(waiter, options.timeout);
  if (literal) start(conn, host, port);
  else {
    lookup(host, (err, address) => {
      if (conn.destroyed) return;
      if (err) conn.dialFailed(err as TransportError);
      else {
        conn.resolved(address);
        start(conn, address, port);
      }
    });
  }
  return conn;
}

function start(conn: FdConn, host: string, port: number): void {
  const sys = io.sys;
  const fd = sys.socket(ipFamily(host) === 6 ? SYS.AF_INET6 : SYS.AF_INET, SOCKET_FLAGS, 0);
  if (fd < 0) return conn.dialFailed(systemCallError("socket", sys.errno(), host, port));
  // Owned by conn from here: its destroy() closes it.
  conn.fd = fd;
  io.len.writeInt32LE(1, 0);
  sys.setsockopt(fd, SYS.IPPROTO_TCP, SYS.TCP_NODELAY, io.lenAt, 4);
  if (sys.connect(fd, io.addrAt, writeSockaddr(io.addr, host, port)) === 0) {
    conn.watch();
    if (!conn.destroyed) conn.connectedNow();
    return;
  }
  const errno = sys.errno();
  // EINTR: the connection goes on in the background, as with EINPROGRESS.
  if (errno !== ERRNO.EINPROGRESS && errno !== ERRNO.EINTR) return conn.dialFailed(systemCallError("connect", errno, host, port));
  conn.watch();
}
