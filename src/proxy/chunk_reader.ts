// Reading a socket through net's `onread` into one shared buffer: no 64 KiB allocation per read.

import type { Socket } from "node:net";

/**
 * Node's default read path allocates a 64 KiB buffer for every read, shrinks it, wraps it in an
 * ArrayBuffer and pushes it through the Readable machinery ('data' events). With `onread`, the
 * kernel copies into a buffer we give, and a callback sees the bytes at once. One buffer serves
 * every socket of the thread: callbacks run one at a time and copy their bytes out before
 * returning (a small copy comes from Buffer's pool, so it costs less than the allocation it
 * replaces, and a pending write may keep it as long as it likes).
 */
const SHARED = Buffer.allocUnsafe(64 * 1024);

const kReader = Symbol("tandem.chunkReader");

type ReaderSocket = Socket & { [kReader]?: ChunkReader };

/** net calls the onread callback with the socket as `this`: one callback serves every reader. */
function onRead(this: ReaderSocket, n: number, buf: Buffer): boolean {
  return this[kReader]!.read(n, buf);
}

const ONREAD = { buffer: SHARED, callback: onRead };
const NONE: Buffer[] = [];

/**
 * Where one socket's bytes go. `onChunk` receives a private copy of each chunk and returns false
 * to stop reading (resume with socket.resume()); until a consumer sets it, chunks are kept in
 * `pending` and reading stops once `pendingBytes` reaches `limit` (an arriving FIN or reset
 * still shows as 'end' / 'close').
 */
export class ChunkReader {
  onChunk: ((chunk: Buffer) => boolean) | undefined = undefined;
  pending: Buffer[] = NONE;
  pendingBytes = 0;
  limit = 64 * 1024;
  /** Pass as the `onread` option of net.connect / new net.Socket (the same object for every reader). */
  readonly onread: { buffer: Buffer; callback: (n: number, buf: Buffer) => boolean } = ONREAD;

  /** Hands the kept chunks to the caller and forgets them. */
  takePending(): Buffer[] {
    const out = this.pending;
    this.pending = NONE;
    this.pendingBytes = 0;
    return out;
  }

  /** Called by net (through onread) with n new bytes at the start of the shared buffer. */
  read(n: number, buf: Buffer): boolean {
    const chunk = Buffer.allocUnsafe(n);
    buf.copy(chunk, 0, 0, n);
    const sink = this.onChunk;
    if (sink) return sink(chunk);
    if (this.pending === NONE) this.pending = [chunk];
    else this.pending.push(chunk);
    this.pendingBytes += n;
    return this.pendingBytes < this.limit;
  }
}

/** Marks a socket as read through reader (it was created with reader.onread). */
export function attachReader(socket: Socket, reader: ChunkReader): void {
  (socket as ReaderSocket)[kReader] = reader;
}

/** The reader of a socket created with one, else undefined (the socket emits 'data'). */
export function readerOf(socket: Socket): ChunkReader | undefined {
  return (socket as ReaderSocket)[kReader];
}
