// C data layouts both libc bindings share (Linux, 64-bit): strings, timespec, clock ids.

export const CLOCK_MONOTONIC = 1;

/** NUL-terminated bytes of s, for C string parameters. */
export function cString(s: string): Uint8Array {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** µs from a struct timespec (two 64-bit fields on every 64-bit Linux). */
export function timespecUsec(ts: Uint8Array): bigint {
  const v = new DataView(ts.buffer, ts.byteOffset, 16);
  return v.getBigInt64(0, true) * 1_000_000n + v.getBigInt64(8, true) / 1000n;
}

/** A socklen_t holding n, for getsockopt's in/out length. */
export function socklen(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}
