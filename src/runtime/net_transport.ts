// The node:net transport: listening sockets (several per address), accepted and dialed
// connections read through one shared buffer (net's `onread`), connect timeouts.

import { createServer, Socket } from "node:net";
import type { Server } from "node:net";
import { attachReader, ChunkReader, readerOf } from "./chunk_reader.ts";
import type { Conn, DialOptions, DialWaiter, Listening, ListenHandlers, ListenOptions, Transport, TransportError } from "./transport.ts";

const isDeno = "deno" in process.versions;

/**
 * Node's default read path allocates a 64 KiB buffer for every read, shrinks it, wraps it in an
 * ArrayBuffer and pushes it through the Readable machinery ('data' events). With `onread`, the
 * kernel copies into a buffer we give, and a callback sees the bytes at once. One buffer serves
 * every socket of the thread: callbacks run one at a time and copy their bytes out before
 * returning (a small copy comes from Buffer's pool, so it costs less than the allocation it
 * replaces, and a pending write may keep it as long as it likes).
 */
const SHARED = Buffer.allocUnsafe(64 * 1024);

/** net calls the onread callback with the socket as `this`: one callback serves every reader. */
function onRead(this: Socket, n: number, buf: Buffer): boolean {
  return readerOf(this)!.read(n, buf);
}

const ONREAD = { buffer: SHARED, callback: onRead };

/** The part of net's listening handle (TCPWrap) that accepts. */
interface AcceptHandle {
  onconnection: (err: number, clientHandle?: { setNoDelay?: (on: boolean) => void }) => void;
}

class NetListening implements Listening {
  readonly port: number;
  #servers: Server[];
  constructor(servers: Server[], port: number) {
    this.#servers = servers;
    this.port = port;
  }
  get acceptors(): number {
    return this.#servers.length;
  }
  close(): void {
    // net.Server's close callback waits for every accepted connection to end: not awaited.
    for (const server of this.#servers.splice(0)) server.close();
  }
}

function listenOne(server: Server, host: string, port: number, backlog: number, reusePort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, backlog, ...(reusePort ? { reusePort: true } : {}) }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * net.Server builds every accepted socket itself, with no way to pass `onread`. Where its
 * listening handle exposes the accept callback (Node), connections that want a reader are built
 * here instead, as net.Server would (paused, noDelay, counted), plus the reader. Elsewhere (or
 * when readers() says no) net.Server's own path runs.
 */
function hookAccept(netServer: Server, handlers: ListenHandlers): void {
  const server = netServer as Server & { _handle?: AcceptHandle | null; _connections: number };
  const handle = server._handle;
  if (!handle || typeof handle.onconnection !== "function" || isDeno) return;
  const original = handle.onconnection;
  handle.onconnection = (err, clientHandle) => {
    if (err || !clientHandle || !handlers.readers()) return original.call(handle, err, clientHandle);
    const reader = new ChunkReader();
    const options = { handle: clientHandle, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true, onread: ONREAD };
    const socket = new Socket(options as unknown as ConstructorParameters<typeof Socket>[0]) as Socket & { server?: Server; _server?: Server };
    clientHandle.setNoDelay?.(true);
    server._connections++;
    socket.server = server;
    socket._server = server;
    attachReader(socket, reader);
    handlers.connection(socket);
  };
}


/**
 * Binds every acceptor socket. Without reusePort, a plain socket is bound first and closed again
 * when several acceptors are wanted: it fails as before when someone else holds the address, where
 * SO_REUSEPORT sockets of the same user would share it silently.
 */
async function listen(options: ListenOptions, handlers: ListenHandlers): Promise<Listening> {
  const acceptors = isDeno ? 1 : Math.max(1, options.acceptors);
  const make = () => createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => handlers.connection(socket));
  const many = acceptors > 1;
  if (many && !options.reusePort) {
    const probe = make();
    await listenOne(probe, options.host, options.port, options.backlog, false);
    await new Promise((resolve) => probe.close(resolve));
  }
  const servers: Server[] = [];
  let port = options.port;
  try {
    for (let i = 0; i < acceptors; i++) {
      const server = make();
      servers.push(server);
      await listenOne(server, options.host, port, options.backlog, many || options.reusePort);
      port = (server.address() as { port: number }).port;
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }
  for (const server of servers) {
    server.on("error", (err) => handlers.error(err));
    hookAccept(server, handlers);
  }
  return new NetListening(servers, port);
}

// ---- dial: a callback and shared listeners, no promise or closures per connection ----

const kDial = Symbol("tandem.dial");
type DialSocket = Socket & { [kDial]?: { timeout: number; waiter: DialWaiter } | undefined };

function dialError(code: string, message: string, cause?: unknown): TransportError {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as TransportError;
  e.code = code;
  return e;
}

function settle(socket: DialSocket, err: TransportError | undefined): void {
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
  d.waiter.dialed(err, socket);
}

function onConnect(this: DialSocket): void {
  settle(this, undefined);
}

function onError(this: DialSocket, err: NodeJS.ErrnoException): void {
  settle(this, dialError(err.code ?? "EIO", err.message, err));
}

function onTimeout(this: DialSocket): void {
  const d = this[kDial];
  if (d) settle(this, dialError("ETIMEDOUT", `timeout after ${d.timeout}ms`));
}

function onClose(this: DialSocket): void {
  settle(this, dialError("ECLOSED", "closed while connecting"));
}

/** The connect timeout is the socket's own idle timer (cleared on success). */
function dial(options: DialOptions, waiter: DialWaiter): Conn {
  const reader = options.reader;
  const socket: DialSocket = new Socket(reader ? { allowHalfOpen: true, noDelay: true, onread: ONREAD } as object : { allowHalfOpen: true, noDelay: true } as object);
  if (reader) attachReader(socket, reader);
  socket[kDial] = { timeout: options.timeout, waiter };
  socket.on("connect", onConnect);
  socket.on("error", onError);
  socket.on("close", onClose);
  if (options.timeout > 0) {
    socket.setTimeout(options.timeout);
    socket.on("timeout", onTimeout);
  }
  socket.connect({ host: options.host, port: options.port });
  return socket;
}

/** The node:net transport (Node and Deno; on Deno one acceptor per address and no onread). */
export const netTransport: Transport = { name: "net", listen, dial };
