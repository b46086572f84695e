// Where a connection's bytes go when a transport reads them into a buffer of its own (net's
// `onread`, a raw file descriptor): a callback per chunk instead of 'data' events.

const kReader = Symbol("tandem.chunkReader");

type ReaderConn = object & { [kReader]?: ChunkReader };

const NONE: Buffer[] = [];

/**
 * Where one connection's bytes go. `onChunk` receives a private copy of each chunk and returns
 * false to stop reading (resume with conn.resume()); until a consumer sets it, chunks are kept in
 * `pending` and reading stops once `pendingBytes` reaches `limit` (an arriving FIN or reset
 * still shows as 'end' / 'close').
 */
export class ChunkReader {
  onChunk: ((chunk: Buffer) => boolean) | undefined = undefined;
  pending: Buffer[] = NONE;
  pendingBytes = 0;
  limit = 64 * 1024;

  /** Hands the kept chunks to the caller and forgets them. */
  takePending(): Buffer[] {
    const out = this.pending;
    this.pending = NONE;
    this.pendingBytes = 0;
    return out;
  }

  /** Called by the transport with n new bytes at the start of buf (which it reuses after). */
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

/** Marks a connection as read through reader (the transport feeds it). */
export function attachReader(conn: object, reader: ChunkReader): void {
  (conn as ReaderConn)[kReader] = reader;
}

/** The reader of a connection made with one, else undefined (it emits 'data'). */
export function readerOf(conn: object): ChunkReader | undefined {
  return (conn as ReaderConn)[kReader];
}
