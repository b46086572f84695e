// A scripted BGP peer for tests: accepts connections, answers the OPEN exchange, records what
// tandem sends, and can send anything (valid or not) back.

import { createServer, type Server, type Socket } from "node:net";
import { decodeMessage, encodeKeepalive, encodeOpen, MessageReader, ourCapabilities } from "../../src/bgp/message.ts";
import type { BgpMessage } from "../../src/bgp/message.ts";

/** A message the peer's own checks refused (a loopback NEXT_HOP, in tests on 127.0.0.1). */
export interface Refused {
  type: "refused";
  reason: string;
  bytes: Uint8Array;
}

export interface PeerConnection {
  socket: Socket;
  /** Every message tandem sent on this connection, decoded (UPDATE as eBGP from `tandemAs`). */
  received: (BgpMessage | Refused)[];
  closed: boolean;
  send(bytes: Uint8Array): void;
}

/** A peer on 127.0.0.1 (or `host`), AS `as`, answering OPENs when `autoOpen` (default). */
export class FakePeer {
  readonly server: Server;
  readonly connections: PeerConnection[] = [];
  port = 0;
  #as: number;
  #tandemAs: number;
  #autoOpen: boolean;
  #holdTime: number;

  constructor(o: { as: number; tandemAs: number; autoOpen?: boolean; holdTime?: number }) {
    this.#as = o.as;
    this.#tandemAs = o.tandemAs;
    this.#autoOpen = o.autoOpen ?? true;
    this.#holdTime = o.holdTime ?? 90;
    this.server = createServer((socket) => this.#accept(socket));
  }

  async listen(host = "127.0.0.1"): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, host, r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise((r) => this.server.close(r));
  }

  /** The latest connection. */
  get last(): PeerConnection | undefined {
    return this.connections.at(-1);
  }

  #accept(socket: Socket): void {
    const reader = new MessageReader();
    const c: PeerConnection = { socket, received: [], closed: false, send: (b) => socket.write(b) };
    this.connections.push(c);
    socket.on("error", () => {});
    socket.on("close", () => (c.closed = true));
    socket.on("data", (chunk) => {
      for (const m of reader.push(chunk)) {
        let msg: BgpMessage;
        try {
          msg = decodeMessage(m, { as4: true, ebgp: this.#as !== this.#tandemAs, peerAs: this.#tandemAs });
        } catch (err) {
          c.received.push({ type: "refused", reason: (err as Error).message, bytes: m });
          continue;
        }
        c.received.push(msg);
        if (msg.type === "open" && this.#autoOpen) {
          socket.write(encodeOpen({ localAs: this.#as, holdTime: this.#holdTime, routerId: "192.0.2.1", capabilities: ourCapabilities(this.#as, [4, 6]) }));
          socket.write(encodeKeepalive());
        }
      }
    });
  }
}

/** Polls fn every 10 ms until true or ms pass; resolves whether it became true. */
export async function until(fn: () => boolean, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (fn()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return fn();
}
