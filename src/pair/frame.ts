// Framing of the pair link: each frame is a 4-byte big-endian length and that many bytes. The
// reader keeps the chunks it got and cuts frames out without copying more than once.

import { TandemError } from "../core/errors.ts";

export const FRAME_HEADER = 4;

/** A frame that cannot be read (too long): the connection is closed. Code E_PAIR_FRAME. */
export class FrameError extends TandemError {
  constructor(message: string) {
    super("E_PAIR_FRAME", message);
  }
}

/** The 4-byte header of a payload of `length` bytes (also the AAD of a record). */
export function frameHeader(length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h.writeUInt32BE(length, 0);
  return h;
}

/** Reads frames out of a byte stream, refusing any longer than max (which may grow after a handshake). */
export class FrameReader {
  max: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Payload length of the frame being read, once its header arrived. */
  #need = -1;

  constructor(max: number) {
    this.max = max;
  }

  /** Bytes held, waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Takes a chunk (read the frames it completes with next()). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next complete payload, or undefined until more bytes come. One at a time, so a caller can
   * change max between frames (the handshake's last frame and the first records share a chunk).
   * Throws FrameError on a length over max.
   */
  next(): Buffer | undefined {
    if (this.#need < 0) {
      if (this.#buffered < FRAME_HEADER) return undefined;
      const length = this.#take(FRAME_HEADER).readUInt32BE(0);
      if (length > this.max) throw new FrameError(`frame of ${length} bytes is over the limit of ${this.max}`);
      this.#need = length;
    }
    if (this.#buffered < this.#need) return undefined;
    const out = this.#take(this.#need);
    this.#need = -1;
    return out;
  }

  /** Removes n bytes from the front (n <= buffered). */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      this.#buffered -= n;
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}
