// The ClientInfo of an accepted socket, read from the socket only when something asks for it.

import type { Conn } from "../runtime/transport.ts";

/** Who is asking: the client's real endpoints (after accept_proxy) and the frontend name. */
export interface ClientInfo {
  srcAddress: string;
  srcPort: number;
  /** The address and port the client connected to (port-less servers use dstPort). */
  dstAddress: string;
  dstPort: number;
  frontend: string;
}

const unmap = (ip: string | undefined): string => (ip?.startsWith("::ffff:") ? ip.slice(7) : (ip ?? ""));

/**
 * Addresses cost a getpeername(2)/getsockname(2) each and a few objects; a tcp session with a
 * round-robin backend and fixed server ports needs neither. Values are fetched on first read and
 * kept (net keeps them too), so read them before the socket closes: after, they are "" / 0.
 */
export class AcceptedClient implements ClientInfo {
  readonly frontend: string;
  #socket: Conn;
  #src: string | undefined = undefined;
  #dst: string | undefined = undefined;

  constructor(socket: Conn, frontend: string) {
    this.#socket = socket;
    this.frontend = frontend;
  }

  get srcAddress(): string {
    return (this.#src ??= unmap(this.#socket.remoteAddress));
  }

  get srcPort(): number {
    return this.#socket.remotePort ?? 0;
  }

  get dstAddress(): string {
    return (this.#dst ??= unmap(this.#socket.localAddress));
  }

  get dstPort(): number {
    return this.#socket.localPort ?? 0;
  }

  /** A plain copy with every field read now (for spreading, logging after close). */
  snapshot(): ClientInfo {
    return { srcAddress: this.srcAddress, srcPort: this.srcPort, dstAddress: this.dstAddress, dstPort: this.dstPort, frontend: this.frontend };
  }
}
