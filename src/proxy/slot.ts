// A connection slot on a server, and what can cancel the wait for one.

import type { Server } from "./server.ts";

/** A held connection slot on a server; release() exactly once when the server connection ends. */
export interface Slot {
  server: Server;
  /** ms spent in a queue. */
  queued: number;
  release(): void;
}

/** What a queued reservation needs of an AbortSignal (an AbortSignal is one; Opening is a lighter one). */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}
