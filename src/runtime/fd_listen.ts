// Listening sockets of the fd data path: bind, listen, and accept4(2) in batches until EAGAIN.

import { ipFamily } from "../core/address.ts";
import { ChunkReader } from "./chunk_reader.ts";
import { ERRNO, systemCallError } from "./errno.ts";
import { FdConn } from "./fd_conn.ts";
import { io } from "./fd_io.ts";
import type { PollTarget } from "./fd_poller.ts";
import { SYS } from "./fd_sys.ts";
import { SOCKADDR_MAX, sockaddrAddress, sockaddrPort, writeSockaddr } from "./sockaddr.ts";
import type { Listening, ListenHandlers, ListenOptions } from "./transport.ts";

/** Connections accepted per wake-up before the other sockets get their turn (haproxy's default tune.maxaccept). */
const ACCEPT_BATCH = 64;
/** How long accepting pauses when the process is out of file descriptors or memory. */
const ACCEPT_PAUSE_MS = 100;
const ACCEPT_FLAGS = SYS.SOCK_NONBLOCK | SYS.SOCK_CLOEXEC;

/**
 * One listening socket. It is watched level-triggered: a batch that stops before EAGAIN is
 * reported again by the next epoll_wait. One socket per address is enough here (libuv's one
 * accept per loop turn, which net's acceptors work around, does not apply).
 */
class FdListening implements Listening, PollTarget {
  readonly port: number;
  readonly acceptors = 1;
  pollGen = 0;
  #fd: number;
  #handlers: ListenHandlers;
  #paused: ReturnType<typeof setTimeout> | undefined = undefined;
  /** accept4 has failed since the last connection: the failure was reported already. */
  #failing = false;

  constructor(fd: number, port: number, handlers: ListenHandlers) {
    this.#fd = fd;
    this.port = port;
    this.#handlers = handlers;
  }

  close(): void {
    if (this.#fd < 0) return;
    clearTimeout(this.#paused);
    io.poller.forget(this.#fd, this, true);
    io.sys.close(this.#fd);
    this.#fd = -1;
  }

  onPoll(): void {
    const { sys, addr, addrAt, len, lenAt } = io;
    const handlers = this.#handlers;
    for (let i = 0; i < ACCEPT_BATCH && this.#fd >= 0; i++) {
      len.writeUInt32LE(SOCKADDR_MAX, 0);
      const fd = sys.accept4(this.#fd, addrAt, lenAt, ACCEPT_FLAGS);
      if (fd < 0) {
        const errno = sys.errno();
        if (errno === ERRNO.EAGAIN) return;
        if (errno === ERRNO.EINTR || errno === ERRNO.ECONNABORTED) continue;
        // Out of descriptors or memory (or worse): level-triggered, so retrying now would spin.
        this.#pause(errno);
        return;
      }
      this.#failing = false;
      // The listening socket has TCP_NODELAY, which accepted sockets inherit.
      const conn = new FdConn(fd, false, sockaddrAddress(addr), sockaddrPort(addr));
      if (handlers.readers()) conn.useReader(new ChunkReader());
      conn.watch();
      handlers.connection(conn);
    }
  }

  /** Stops watching for ACCEPT_PAUSE_MS; the owner hears of it once per run of failures. */
  #pause(errno: number): void {
    io.poller.modify(this.#fd, this, 0);
    this.#paused = setTimeout(() => {
      this.#paused = undefined;
      if (this.#fd >= 0) io.poller.modify(this.#fd, this, SYS.EPOLLIN);
    }, ACCEPT_PAUSE_MS);
    if (this.#failing) return;
    this.#failing = true;
    const err = systemCallError("accept", errno);
    err.message += `: accepting again every ${ACCEPT_PAUSE_MS} ms until it works`;
    this.#handlers.error(err);
  }
}

/** The errno of the call that failed, closing fd. */
function failed(fd: number, syscall: string, host: string, port: number): never {
  const errno = io.sys.errno();
  io.sys.close(fd);
  throw systemCallError(syscall, errno, host, port);
}

/**
 * Binds host:port (SO_REUSEADDR as net does, SO_REUSEPORT when asked) and listens. Throws (the
 * promise rejects) with code = the errno name: EADDRINUSE, EADDRNOTAVAIL, EACCES...
 */
export function fdListen(options: ListenOptions, handlers: ListenHandlers): Promise<Listening> {
  const { sys, addr, addrAt, len, lenAt } = io;
  const { host, port } = options;
  try {
    const family = ipFamily(host) === 6 ? SYS.AF_INET6 : SYS.AF_INET;
    const fd = sys.socket(family, SYS.SOCK_STREAM | SYS.SOCK_NONBLOCK | SYS.SOCK_CLOEXEC, 0);
    if (fd < 0) throw systemCallError("socket", sys.errno(), host, port);
    const one = (level: number, name: number) => {
      len.writeInt32LE(1, 0);
      if (sys.setsockopt(fd, level, name, lenAt, 4) !== 0) failed(fd, "setsockopt", host, port);
    };
    one(SYS.SOL_SOCKET, SYS.SO_REUSEADDR);
    if (options.reusePort) one(SYS.SOL_SOCKET, SYS.SO_REUSEPORT);
    one(SYS.IPPROTO_TCP, SYS.TCP_NODELAY);
    if (sys.bind(fd, addrAt, writeSockaddr(addr, host, port)) !== 0) failed(fd, "bind", host, port);
    if (sys.listen(fd, options.backlog) !== 0) failed(fd, "listen", host, port);
    len.writeUInt32LE(SOCKADDR_MAX, 0);
    if (sys.getsockname(fd, addrAt, lenAt) !== 0) failed(fd, "getsockname", host, port);
    const listening = new FdListening(fd, sockaddrPort(addr), handlers);
    const errno = io.poller.add(fd, listening, SYS.EPOLLIN);
    if (errno !== 0) {
      sys.close(fd);
      throw systemCallError("epoll_ctl", errno, host, port);
    }
    return Promise.resolve(listening);
  } catch (err) {
    return Promise.reject(err);
  }
}
