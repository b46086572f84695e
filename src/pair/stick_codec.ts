// The binary form of a batch of stick entries on the pair link. Each batch declares the data
// types its entries carry (haproxy's peers protocol does the same with its table definition), so
// counters can be added later without breaking an older peer: a type it does not know is skipped
// by the size of its wire kind.
//
//   u32 batch sequence (acknowledged by the peer) | u8 flags (1: part of a full resync)
//   u16 length, table name | u8 count, (u8 data type, u8 wire kind) × count
//   u16 count, (u8 length, server name) × count       -- servers by name, entries point into it
//   u32 count, then per entry: u8 length, key, one value per declared data type

import type { SharedStickEntry } from "../proxy/stick_sharing.ts";
import { MessageError } from "./messages.ts";

/** How a value is written, so an unknown data type can be skipped. */
export const WIRE = { u16: 0, u32: 1, u64: 2, f64: 3, freq: 4 } as const;
const WIRE_SIZE: Record<number, number> = { 0: 2, 1: 4, 2: 8, 3: 8, 4: 16 };

/**
 * Data types, numbered for the wire. Only `server` and `expire` are sent today; the others are
 * reserved for stick-table counters (conn_cnt, http_req_rate...): a counter is a u32/u64, a rate
 * a `freq` (period ms, current and previous period counts, age of the current period ms).
 */
export const DATA_TYPE = {
  server: { id: 1, wire: WIRE.u16 },
  expire: { id: 2, wire: WIRE.u32 },
  conn_cnt: { id: 3, wire: WIRE.u32 },
  conn_rate: { id: 4, wire: WIRE.freq },
  http_req_cnt: { id: 5, wire: WIRE.u32 },
  http_req_rate: { id: 6, wire: WIRE.freq },
  http_err_rate: { id: 7, wire: WIRE.freq },
  gpc0: { id: 8, wire: WIRE.u32 },
  gpt0: { id: 9, wire: WIRE.u32 },
} as const;

/** Longest key sent (an IPv6 address in text is 45 bytes); a longer one is left out. */
export const MAX_KEY = 255;
/** Entries per batch: ~5 ms to apply on the receiver, and with the longest keys well under a record's 1 MiB. */
export const MAX_BATCH = 1000;

export interface StickBatch {
  seq: number;
  resync: boolean;
  table: string;
  entries: SharedStickEntry[];
}

/** Encodes a batch with server and expire. Entries with a key or server name over 255 bytes are left out. */
export function encodeSticks(batch: StickBatch): Buffer {
  const table = Buffer.from(batch.table, "utf8");
  const servers = new Map<string, number>();
  const names: Buffer[] = [];
  const keys: Buffer[] = [];
  const refs: number[] = [];
  const expires: number[] = [];
  for (const e of batch.entries) {
    const key = Buffer.from(e.key, "utf8");
    if (key.length > MAX_KEY) continue;
    let ref = servers.get(e.server);
    if (ref === undefined) {
      const n = Buffer.from(e.server, "utf8");
      if (n.length > 255 || names.length >= 0xffff) continue;
      ref = names.length;
      servers.set(e.server, ref);
      names.push(n);
    }
    keys.push(key);
    refs.push(ref);
    expires.push(Math.max(0, Math.min(0xffffffff, Math.round(e.expiresIn))));
  }
  const types = [DATA_TYPE.server, DATA_TYPE.expire];
  let size = 4 + 1 + 2 + table.length + 1 + types.length * 2 + 2 + 4;
  for (const n of names) size += 1 + n.length;
  for (const k of keys) size += 1 + k.length + 2 + 4;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt32BE(batch.seq >>> 0, 0);
  at = out.writeUInt8(batch.resync ? 1 : 0, at);
  at = out.writeUInt16BE(table.length, at);
  at += table.copy(out, at);
  at = out.writeUInt8(types.length, at);
  for (const t of types) at = out.writeUInt8(t.wire, out.writeUInt8(t.id, at));
  at = out.writeUInt16BE(names.length, at);
  for (const n of names) at += n.copy(out, out.writeUInt8(n.length, at)) + 1;
  at = out.writeUInt32BE(keys.length, at);
  for (let i = 0; i < keys.length; i++) {
    at = out.writeUInt8(keys[i].length, at);
    at += keys[i].copy(out, at);
    at = out.writeUInt16BE(refs[i], at);
    at = out.writeUInt32BE(expires[i], at);
  }
  return out;
}

/** Bounds-checked reads over a message body; a short body throws MessageError. */
class Reader {
  #b: Buffer;
  at = 0;
  constructor(b: Buffer) {
    this.#b = b;
  }
  #need(n: number): void {
    if (this.at + n > this.#b.length) throw new MessageError(`stick batch is truncated at byte ${this.at} (needs ${n} more)`);
  }
  u8(): number {
    this.#need(1);
    return this.#b[this.at++];
  }
  u16(): number {
    this.#need(2);
    const v = this.#b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.#b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  text(n: number): string {
    this.#need(n);
    const s = this.#b.toString("utf8", this.at, this.at + n);
    this.at += n;
    return s;
  }
  skip(n: number): void {
    this.#need(n);
    this.at += n;
  }
  get left(): number {
    return this.#b.length - this.at;
  }
}

/** Decodes a batch; data types it does not know are skipped. Throws MessageError on a malformed body. */
export function decodeSticks(body: Buffer): StickBatch {
  const r = new Reader(body);
  const seq = r.u32();
  const resync = (r.u8() & 1) === 1;
  const table = r.text(r.u16());
  const types: { id: number; wire: number }[] = [];
  for (let n = r.u8(); n > 0; n--) {
    const id = r.u8();
    const wire = r.u8();
    if (WIRE_SIZE[wire] === undefined) throw new MessageError(`stick batch declares data type ${id} with unknown wire kind ${wire}`);
    types.push({ id, wire });
  }
  const servers: string[] = [];
  for (let n = r.u16(); n > 0; n--) servers.push(r.text(r.u8()));
  const count = r.u32();
  // Each entry takes at least its length byte: a count the body cannot hold is a lie.
  if (count > r.left) throw new MessageError(`stick batch announces ${count} entries in ${r.left} bytes`);
  const entries: SharedStickEntry[] = [];
  for (let i = 0; i < count; i++) {
    const key = r.text(r.u8());
    let server: string | undefined;
    let expiresIn = 0;
    for (const t of types) {
      if (t.id === DATA_TYPE.server.id && t.wire === WIRE.u16) {
        const ref = r.u16();
        server = servers[ref];
        if (server === undefined) throw new MessageError(`stick entry "${key}" names server #${ref} of ${servers.length}`);
      } else if (t.id === DATA_TYPE.expire.id && t.wire === WIRE.u32) expiresIn = r.u32();
      else r.skip(WIRE_SIZE[t.wire]);
    }
    // An entry without a server (counters only, from a newer peer) has nothing to stick to here.
    if (server !== undefined) entries.push({ key, server, expiresIn });
  }
  return { seq, resync, table, entries };
}

/** The acknowledgement of batch seq. */
export function encodeAck(seq: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(seq >>> 0, 0);
  return b;
}

export function decodeAck(body: Buffer): number {
  if (body.length !== 4) throw new MessageError(`stick acknowledgement of ${body.length} bytes, expected 4`);
  return body.readUInt32BE(0);
}
