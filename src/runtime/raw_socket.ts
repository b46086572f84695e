// Loads the raw-socket addon: from the binary's embedded asset, or from node_modules in development.

import { createRequire } from "node:module";

/** The subset of the raw-socket package tandem uses. */
export interface RawSocketModule {
  createSocket(options: { addressFamily?: number; protocol?: number; bufferSize?: number; generateChecksums?: boolean }): RawSocket;
  createChecksum(...buffers: (Buffer | { buffer: Buffer; offset: number; length: number })[]): number;
  writeChecksum(buffer: Buffer, offset: number, checksum: number): Buffer;
  AddressFamily: { IPv4: number; IPv6: number };
  Protocol: { None: number; ICMP: number; TCP: number; UDP: number; ICMPv6: number };
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
}

export interface RawSocket {
  on(event: "message", fn: (buffer: Buffer, source: string) => void): this;
  on(event: "error", fn: (err: Error) => void): this;
  on(event: "close", fn: () => void): this;
  send(buffer: Buffer, offset: number, length: number, address: string, beforeCallback: ((...a: unknown[]) => void) | null, afterCallback: (err: Error | null, bytes: number) => void): this;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  getOption(level: number, option: number, value: Buffer, length: number): number;
  close(): this;
  pauseRecv(): this;
  resumeRecv(): this;
}

let cached: RawSocketModule | undefined;

/**
 * Returns the raw-socket module. Throws a TandemError-like Error when the addon cannot load
 * (not built for this Node, or running on Deno, which cannot load nan addons).
 */
export function loadRawSocket(): RawSocketModule {
  if (cached) return cached;
  if ("Deno" in globalThis) throw new Error("raw sockets need the Node runtime (raw-socket is a nan addon Deno cannot load)");
  // The built binary's entry (scripts/sea_entry.cjs) provides the bundled package, whose addon is
  // the embedded asset (src/runtime/sea_addon.ts); in development it is the ordinary package.
  const bundled = (globalThis as { __tandemBundledRawSocket?: () => RawSocketModule }).__tandemBundledRawSocket;
  cached = bundled ? bundled() : (createRequire(import.meta.url)("raw-socket") as RawSocketModule);
  return cached;
}
