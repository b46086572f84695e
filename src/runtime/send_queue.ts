// Bytes a socket could not send yet, in order: chunks kept by reference, gathered into one buffer
// for the next send(2), dropped from the front as the kernel takes them.

const NO_CHUNKS: Buffer[] = [];

export class SendQueue {
  #chunks: Buffer[] = NO_CHUNKS;
  #at = 0;
  #offset = 0;
  /** Bytes queued. */
  bytes = 0;

  push(chunk: Buffer): void {
    if (this.#chunks === NO_CHUNKS) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** The unsent part of the first chunk when it is larger than max (sent on its own, uncopied). */
  largeHead(max: number): Buffer | undefined {
    const first = this.#chunks[this.#at];
    if (first.length - this.#offset <= max) return undefined;
    return this.#offset === 0 ? first : first.subarray(this.#offset);
  }

  /** Copies the queue's first bytes (up to out.length) into out; returns how many. */
  gather(out: Buffer): number {
    const q = this.#chunks;
    let len = 0;
    for (let i = this.#at, off = this.#offset; i < q.length && len < out.length; i++, off = 0) {
      len += q[i].copy(out, len, off, Math.min(q[i].length, off + out.length - len));
    }
    return len;
  }

  /** Drops n sent bytes from the front. */
  consume(n: number): void {
    this.bytes -= n;
    if (this.bytes === 0) return this.clear();
    const q = this.#chunks;
    while (n > 0) {
      const left = q[this.#at].length - this.#offset;
      if (n < left) {
        this.#offset += n;
        return;
      }
      n -= left;
      this.#at++;
      this.#offset = 0;
    }
  }

  clear(): void {
    this.#chunks = NO_CHUNKS;
    this.#at = this.#offset = this.bytes = 0;
  }
}
