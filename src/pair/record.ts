// Records of the pair link after the handshake: AES-256-GCM with one key per direction and an
// implicit sequence number per record (the nonce), so a record that is altered, replayed,
// reordered or dropped fails authentication and ends the connection.

import { createCipheriv, createDecipheriv } from "node:crypto";
import { TandemError } from "../core/errors.ts";
import { frameHeader } from "./frame.ts";

const TAG = 16;
/** Largest plaintext of one record; larger messages are split by their senders. */
export const MAX_PLAINTEXT = 1 << 20;
/** Largest frame payload a record makes. */
export const MAX_RECORD = MAX_PLAINTEXT + TAG;

/** A record that does not authenticate: code E_PAIR_RECORD. The connection is closed. */
export class RecordError extends TandemError {
  constructor(message: string) {
    super("E_PAIR_RECORD", message);
  }
}

/** The 12-byte GCM nonce of record seq: 4 zero bytes, then seq as a 64-bit big-endian number. */
function nonce(seq: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(Math.floor(seq / 2 ** 32), 4);
  n.writeUInt32BE(seq >>> 0, 8);
  return n;
}

/** One direction's key and sequence. */
class Direction {
  readonly #key: Buffer;
  #seq = 0;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError("an AES-256-GCM key is 32 bytes");
    this.#key = key;
  }
  get seq(): number {
    return this.#seq;
  }
  next(): number {
    return this.#seq++;
  }
  get key(): Buffer {
    return this.#key;
  }
}

/**
 * Seals and opens records for one connection. Keys come from the handshake (fresh for every
 * connection), so sequence numbers start at 0 each time and a record of an earlier connection
 * never opens. The frame header (the length) is the additional authenticated data.
 */
export class RecordLayer {
  readonly #send: Direction;
  readonly #receive: Direction;

  constructor(keys: { send: Buffer; receive: Buffer }) {
    this.#send = new Direction(keys.send);
    this.#receive = new Direction(keys.receive);
  }

  /** Records sent and received so far. */
  get counts(): { sent: number; received: number } {
    return { sent: this.#send.seq, received: this.#receive.seq };
  }

  /** Encrypts plaintext into a frame payload (ciphertext then tag). Throws RangeError over MAX_PLAINTEXT. */
  seal(plaintext: Uint8Array): Buffer {
    if (plaintext.length > MAX_PLAINTEXT) throw new RangeError(`record of ${plaintext.length} bytes is over ${MAX_PLAINTEXT}`);
    const c = createCipheriv("aes-256-gcm", this.#send.key, nonce(this.#send.next()));
    c.setAAD(frameHeader(plaintext.length + TAG));
    const body = c.update(plaintext);
    const final = c.final();
    return Buffer.concat([body, final, c.getAuthTag()]);
  }

  /** Decrypts a frame payload. Throws RecordError when it does not authenticate. */
  open(payload: Buffer): Buffer {
    if (payload.length < TAG) throw new RecordError(`record of ${payload.length} bytes is shorter than its tag`);
    const seq = this.#receive.next();
    try {
      const d = createDecipheriv("aes-256-gcm", this.#receive.key, nonce(seq));
      d.setAAD(frameHeader(payload.length));
      d.setAuthTag(payload.subarray(payload.length - TAG));
      const body = d.update(payload.subarray(0, payload.length - TAG));
      return Buffer.concat([body, d.final()]);
    } catch {
      throw new RecordError(`record ${seq} does not authenticate (altered, replayed or out of order)`);
    }
  }
}
