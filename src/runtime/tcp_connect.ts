// Outgoing TCP connections with the options BGP needs and Node's net cannot set: a TCP MD5
// signature key (RFC 2385, Linux TCP_MD5SIG) and the IP TTL (eBGP's one hop, multihop).

import { isIP, Socket, connect as netConnect } from "node:net";
import { TandemError } from "../core/errors.ts";
import { errnoName, loadLibc, type Libc } from "./libc.ts";
import { expandIPv6 } from "../core/address.ts";

export interface TcpConnectOptions {
  host: string;
  port: number;
  /** TCP MD5 signature key (RFC 2385), at most 80 bytes. */
  md5?: string;
  /** TTL (IPv4) or hop limit (IPv6) of the packets sent. */
  ttl?: number;
  /** ms the connection may take. */
  timeout: number;
}

/** An open connection, as the BGP session uses it. */
export interface TcpConnection {
  readonly localAddress: string;
  write(bytes: Uint8Array): void;
  /** Closes after the bytes written so far have left. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  onData(fn: (chunk: Uint8Array) => void): void;
  /** Called once when the connection ends, with why. */
  onClose(fn: (reason: string) => void): void;
}

/** Opens a connection. Rejects with TandemError E_CONNECT (what failed: why). */
export type TcpConnector = (o: TcpConnectOptions) => Promise<TcpConnection>;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const IPPROTO_IP = 0;
const IP_TTL = 2;
const IPPROTO_TCP = 6;
const TCP_MD5SIG = 14;
const IPPROTO_IPV6 = 41;
const IPV6_UNICAST_HOPS = 16;
const EINPROGRESS = 115;
const POLLOUT = 4;
/** struct tcp_md5sig: sockaddr_storage (128), flags, prefixlen, keylen (u16), ifindex (u32), key[80]. */
const MD5SIG_SIZE = 216;
export const MD5_MAX_KEY = 80;

/** struct sockaddr_in / sockaddr_in6 for host:port. */
export function sockaddr(host: string, port: number): Uint8Array {
  const v6 = isIP(host) === 6;
  const out = new Uint8Array(v6 ? 28 : 16);
  const v = new DataView(out.buffer);
  v.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  v.setUint16(2, port, false);
  if (v6) out.set(expandIPv6(host), 8);
  else out.set(host.split(".").map(Number), 4);
  return out;
}

/** struct tcp_md5sig naming the peer and the key. */
export function md5sig(host: string, key: string): Uint8Array {
  const bytes = new TextEncoder().encode(key);
  if (bytes.length > MD5_MAX_KEY) throw new TandemError("E_CONNECT", `TCP MD5 key is ${bytes.length} bytes (at most ${MD5_MAX_KEY})`);
  const out = new Uint8Array(MD5SIG_SIZE);
  out.set(sockaddr(host, 0), 0);
  new DataView(out.buffer).setUint16(130, bytes.length, true);
  out.set(bytes, 136);
  return out;
}

function wrap(socket: Socket): TcpConnection {
  let closed = false;
  let onClose: (reason: string) => void = () => {};
  let why = "closed by the peer";
  socket.on("error", (err: NodeJS.ErrnoException) => (why = err.code ?? err.message));
  socket.on("close", () => {
    if (closed) return;
    closed = true;
    onClose(why);
  });
  socket.setNoDelay(true);
  return {
    localAddress: (socket.localAddress ?? "").replace(/^::ffff:/, ""),
    write: (b) => {
      if (!socket.destroyed) socket.write(b);
    },
    end: () => {
      why = "closed by us";
      socket.end();
      // A peer that never reads must not keep the socket open.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    destroy: () => {
      why = "closed by us";
      socket.destroy();
    },
    onData: (fn) => socket.on("data", fn),
    onClose: (fn) => (onClose = fn),
  };
}

/** Through libc: a non-blocking socket with MD5/TTL set before connect(2), handed to net.Socket once connected. */
function libcConnect(libc: Libc, o: TcpConnectOptions): Promise<TcpConnection> {
  const what = `Cannot connect to ${o.host}:${o.port}`;
  const v6 = isIP(o.host) === 6;
  const fd = libc.socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Promise.reject(new TandemError("E_CONNECT", `${what}: socket() failed (${errnoName(libc.errno())})`));
  const fail = (why: string) => {
    libc.close(fd);
    return new TandemError("E_CONNECT", `${what}: ${why}`);
  };
  try {
    if (o.md5 !== undefined && libc.setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, md5sig(o.host, o.md5)) < 0) {
      const e = libc.errno();
      return Promise.reject(fail(`cannot set the TCP MD5 key (${errnoName(e)}${e === 92 ? ": the kernel lacks CONFIG_TCP_MD5SIG" : ""})`));
    }
    if (o.ttl !== undefined) {
      const ttl = new Uint8Array(4);
      new DataView(ttl.buffer).setInt32(0, o.ttl, true);
      if (libc.setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, ttl) < 0) return Promise.reject(fail(`cannot set TTL ${o.ttl} (${errnoName(libc.errno())})`));
    }
  } catch (err) {
    libc.close(fd);
    return Promise.reject(err);
  }
  if (libc.connect(fd, sockaddr(o.host, o.port)) < 0 && libc.errno() !== EINPROGRESS) return Promise.reject(fail(errnoName(libc.errno())));
  const deadline = performance.now() + o.timeout;
  const pfd = new Uint8Array(8);
  const pv = new DataView(pfd.buffer);
  pv.setInt32(0, fd, true);
  pv.setInt16(4, POLLOUT, true);
  return new Promise((resolve, reject) => {
    // Poll without blocking the loop: the connection is usually there within a round trip.
    let wait = 2;
    const check = () => {
      pv.setInt16(6, 0, true);
      if (libc.poll(pfd, 1, 0) > 0) {
        const err = new Uint8Array(4);
        libc.getsockopt(fd, SOL_SOCKET, SO_ERROR, err);
        const errno = new DataView(err.buffer).getInt32(0, true);
        if (errno !== 0) return reject(fail(errnoName(errno)));
        try {
          resolve(wrap(new Socket({ fd, readable: true, writable: true })));
        } catch (e) {
          reject(fail((e as Error).message));
        }
        return;
      }
      if (performance.now() >= deadline) return reject(fail(`no answer within ${o.timeout}ms`));
      wait = Math.min(50, wait * 2);
      setTimeout(check, wait);
    };
    check();
  });
}

/** Through node:net (no MD5, no TTL): where libc is not reachable (Deno). */
function netConnectPlain(o: TcpConnectOptions): Promise<TcpConnection> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: o.host, port: o.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TandemError("E_CONNECT", `Cannot connect to ${o.host}:${o.port}: no answer within ${o.timeout}ms`));
    }, o.timeout);
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TandemError("E_CONNECT", `Cannot connect to ${o.host}:${o.port}: ${err.code ?? err.message}`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(wrap(socket));
    });
  });
}

/**
 * The system's connector: libc through node:ffi where available (MD5 and TTL honoured), else
 * node:net, which refuses an MD5 key (E_CONNECT) and sends with the system's default TTL.
 */
export function systemConnector(): TcpConnector {
  let libc: Libc | undefined;
  try {
    // The connected fd is handed to node:net's Socket, which only Node adopts: on Deno (whose
    // libc binding works, see libc_deno.ts) the connection goes through node:net.
    libc = "Deno" in globalThis ? undefined : loadLibc();
  } catch {
    libc = undefined;
  }
  return (o) => {
    if (libc) return libcConnect(libc, o);
    if (o.md5 !== undefined) return Promise.reject(new TandemError("E_CONNECT", `Cannot connect to ${o.host}:${o.port}: a TCP MD5 password needs the Node runtime (node:ffi)`));
    return netConnectPlain(o);
  };
}
