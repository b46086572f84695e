// One datagram to a unix socket (path or Linux abstract name), over the libc seam: Node has none in node:dgram.

import { loadLibc, SyscallError, type Libc } from "./libc.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH = 108;

/**
 * struct sockaddr_un for `path`; a leading "@" names an abstract socket (the "@" becomes a NUL
 * byte and the length counts no terminator), as systemd writes NOTIFY_SOCKET. Throws TypeError
 * when the name is empty or longer than sun_path.
 */
export function sockaddrUn(path: string): Uint8Array {
  const abstract = path.startsWith("@");
  const name = new TextEncoder().encode(abstract ? path.slice(1) : path);
  const size = name.length + 1; // the abstract NUL in front, or the terminator behind
  if (name.length === 0 || size > SUN_PATH) throw new TypeError(`"${path}" is not a usable unix socket name (1..${SUN_PATH - 1} bytes)`);
  const a = new Uint8Array(2 + (abstract ? size : SUN_PATH));
  new DataView(a.buffer).setUint16(0, AF_UNIX, true);
  a.set(name, abstract ? 3 : 2);
  return a;
}

/**
 * Sends `data` as one datagram to the unix socket at `path` without blocking. Throws
 * SyscallError (ENOENT: nobody listens there; EAGAIN: the receiver's queue is full) or TypeError.
 */
export function sendUnixDatagram(path: string, data: Uint8Array, libc: Libc = loadLibc()): void {
  const addr = sockaddrUn(path);
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError("socket(AF_UNIX, SOCK_DGRAM)", libc.errno());
  try {
    if (libc.sendto(fd, data, MSG_DONTWAIT | MSG_NOSIGNAL, addr) < 0) throw new SyscallError(`sendto ${path}`, libc.errno());
  } finally {
    libc.close(fd);
  }
}
