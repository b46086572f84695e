// Opening one TCP connection to a server: a callback and shared listeners, no promise or closures.

import { Socket } from "node:net";
import type { ClientInfo } from "./backend.ts";
import { attachReader } from "./chunk_reader.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import { ProxyError } from "./errors.ts";
import { encodeProxyHeader } from "./proxy_protocol.ts";
import type { Server } from "./server.ts";
import { describeTlsError, startClientTls } from "../tls/client.ts";

/** Told once how a dial ended: connected (err undefined) or failed (the socket is destroyed). */
export interface DialWaiter {
  dialed(err: ProxyError | undefined, socket: Socket): void;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

const kDial = Symbol("tandem.dial");
type DialSocket = Socket & { [kDial]?: Dial | undefined };

class Dial {
  readonly server: Server;
  readonly port: number;
  readonly client: ClientInfo;
  readonly timeout: number;
  readonly waiter: DialWaiter;
  constructor(server: Server, port: number, client: ClientInfo, timeout: number, waiter: DialWaiter) {
    this.server = server;
    this.port = port;
    this.client = client;
    this.timeout = timeout;
    this.waiter = waiter;
  }
  fail(why: string): string {
    return `Cannot connect to server "${this.server.name}" at ${this.server.config.address}:${this.port}: ${why}`;
  }
}

/**
 * Connects to server:port within `timeout` ms (0 = no limit but the kernel's SYN retries), then
 * writes the PROXY header if the server wants one, and tells waiter. The connect timeout is the
 * socket's own idle timer (cleared on success). Destroying the returned socket before it
 * connects gives up: the waiter gets E_ABORTED. With a reader, the socket is read through it.
 * Errors: ProxyError E_CONNECT, E_CONNECT_TIMEOUT or E_ABORTED.
 */
export function dial(server: Server, port: number, client: ClientInfo, timeout: number, reader: ChunkReader | undefined, waiter: DialWaiter): Socket {
  // A TLS socket reads its own way (the TLS layer takes the TCP stream over).
  if (server.config.tls) reader = undefined;
  const socket: DialSocket = new Socket(reader ? { allowHalfOpen: true, noDelay: true, onread: reader.onread } as object : { allowHalfOpen: true, noDelay: true } as object);
  if (reader) attachReader(socket, reader);
  socket[kDial] = new Dial(server, port, client, timeout, waiter);
  socket.on("connect", onConnect);
  socket.on("error", onError);
  socket.on("close", onClose);
  if (timeout > 0) {
    socket.setTimeout(timeout);
    socket.on("timeout", onTimeout);
  }
  socket.connect({ host: server.config.address, port });
  return socket;
}

function settle(socket: DialSocket, err: ProxyError | undefined, result: Socket = socket): void {
  const d = socket[kDial];
  if (!d) return;
  socket[kDial] = undefined;
  socket.off("connect", onConnect);
  socket.off("error", onError);
  socket.off("close", onClose);
  if (d.timeout > 0) {
    socket.off("timeout", onTimeout);
    socket.setTimeout(0);
  }
  if (err) socket.destroy();
  d.waiter.dialed(err, err ? socket : result);
}

function onConnect(this: DialSocket): void {
  const d = this[kDial];
  if (!d) return;
  const proxy = d.server.config.sendProxy;
  if (proxy) {
    const c = d.client;
    this.write(encodeProxyHeader(proxy, { srcAddress: c.srcAddress, srcPort: c.srcPort, dstAddress: c.dstAddress, dstPort: c.dstPort }));
  }
  const tls = d.server.config.tls;
  if (tls === undefined) return settle(this, undefined);
  // TLS toward the server (src/tls/client.ts), bounded by the same connect timeout.
  startClientTls(this, tls, d.server.config.address, d.port, (err, secure) => {
    if (this[kDial] !== d) return secure?.destroy(); // timed out or aborted meanwhile
    if (err) return settle(this, new ProxyError("E_CONNECT", d.fail(`TLS handshake failed: ${describeTlsError(err)}`), { cause: err, server: d.server.name }));
    settle(this, undefined, secure as unknown as Socket);
  });
}

function onError(this: DialSocket, err: NodeJS.ErrnoException): void {
  const d = this[kDial];
  if (!d) return;
  settle(this, new ProxyError("E_CONNECT", d.fail(ERRNO_TEXT[err.code ?? ""] ?? err.message), { cause: err, server: d.server.name }));
}

function onTimeout(this: DialSocket): void {
  const d = this[kDial];
  if (!d) return;
  settle(this, new ProxyError("E_CONNECT_TIMEOUT", d.fail(`timeout after ${d.timeout}ms`), { server: d.server.name }));
}

function onClose(this: DialSocket): void {
  const d = this[kDial];
  if (!d) return;
  settle(this, new ProxyError("E_ABORTED", "Client aborted while connecting", { server: d.server.name }));
}
