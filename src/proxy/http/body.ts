// Message body framing: Content-Length, chunked with trailers, read-until-close (RFC 9112 §6, §7).

import type { HttpMessage } from "./message.ts";
import { HttpParseError, TCHAR, VALUE } from "./parser.ts";

/** How a body is delimited. */
export type BodyMode = "none" | "length" | "chunked" | "close";

/** Receives payload bytes [start, end) of buf when de-chunking. */
export type DataSink = (buf: Buffer, start: number, end: number) => void;

// Chunked decoder states (RFC 9112 §7.1).
const SIZE = 0; // first hex digit of a chunk size
const SIZE_MORE = 1; // more hex digits, BWS, ";" or CR
const SIZE_BWS = 2; // whitespace after the size: only ";" may follow
const SIZE_LF = 4;
const DATA = 5;
const DATA_CR = 6;
const DATA_LF = 7;
const TRAILER = 8; // start of a trailer line or the final CRLF
const TRAILER_NAME = 9;
const TRAILER_VALUE = 10;
const TRAILER_LF = 11;
const END_LF = 12;
const DONE = 13;
// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), RFC 9112 §7.1.1;
// chunk-ext-name = token, chunk-ext-val = token / quoted-string (RFC 9110 §5.6.4).
const EXT_NAME0 = 14; // after ";": BWS, then the first tchar of a name
const EXT_NAME = 15;
const EXT_AFTER_NAME = 16; // BWS after a name: "=" or ";" must follow
const EXT_VAL0 = 17; // after "=": BWS, then a token or a quoted-string
const EXT_TOKEN = 18;
const EXT_QUOTED = 19;
const EXT_QUOTED_PAIR = 20; // after a backslash in a quoted-string
const EXT_AFTER_VAL = 21; // BWS after a value: ";" must follow
const EXT_CLOSED = 22; // after a quoted-string's closing quote

/** qdtext, RFC 9110 §5.6.4: HTAB, SP, 0x21, 0x23-0x5B, 0x5D-0x7E, obs-text. */
const QDTEXT = new Uint8Array(256);
QDTEXT[9] = QDTEXT[32] = QDTEXT[0x21] = 1;
for (let c = 0x23; c <= 0xff; c++) QDTEXT[c] = c === 0x5c || c === 0x7f ? 0 : 1;

/** Bound on chunk-extension and trailer bytes of one message. */
const MAX_META = 16 * 1024;

/** Request body framing (RFC 9112 §6.3 items 4-7): chunked, Content-Length, else none. */
export function requestBodyMode(m: HttpMessage): BodyMode {
  if (m.chunked) return "chunked";
  return m.contentLength > 0 ? "length" : "none";
}

/**
 * Response body framing (RFC 9112 §6.3 items 1-3, 5-7): none for HEAD, 1xx, 204 and 304;
 * chunked; Content-Length; else read until the server closes.
 */
export function responseBodyMode(m: HttpMessage, requestMethod: string): BodyMode {
  if (requestMethod === "HEAD" || m.status < 200 || m.status === 204 || m.status === 304) return "none";
  if (m.chunked) return "chunked";
  if (m.contentLength >= 0) return m.contentLength > 0 ? "length" : "none";
  return "close";
}

/**
 * Whether the rest of a request body may be read and dropped after an early response, keeping
 * the connection: a finished body, a Content-Length body with at most `limit` bytes left, or a
 * chunked one (whose length is unknown: the reader stops at `limit`). limit 0: never.
 */
export function drainable(d: BodyDecoder, limit: number): boolean {
  if (d.done) return true;
  if (limit <= 0) return false;
  return d.mode === "chunked" || (d.mode === "length" && d.remaining <= limit);
}

/**
 * Finds where a body ends in a byte stream, validating chunked framing byte by byte (data is
 * skipped in bulk). feed() returns how far the body extends in the given bytes; the caller
 * forwards that slice as it is (zero copy) or, with a sink, only the payload (de-chunking).
 * Errors throw HttpParseError with `status` (400 for requests, 502 for responses).
 */
export class BodyDecoder {
  mode: BodyMode = "none";
  /** Payload bytes left in a Content-Length body or the current chunk. */
  remaining = 0;
  /** Whole body seen. */
  done = true;
  status: number;
  #state = DONE;
  #digits = 0;
  #meta = 0;

  constructor(status: number) {
    this.status = status;
  }

  /** Starts a new body. */
  reset(mode: BodyMode, length = 0): void {
    this.mode = mode;
    this.remaining = mode === "length" ? length : 0;
    this.done = mode === "none";
    this.#state = mode === "chunked" ? SIZE : DONE;
    this.#digits = this.#meta = 0;
  }

  /** True for "chunked" before its last-chunk/trailers/CRLF are fully read. */
  get inChunkData(): boolean {
    return this.#state === DATA;
  }

  /**
   * Consumes buf from start; returns the index just past the last byte of this body (== start when
   * nothing belongs to it). With a sink, payload bytes are passed to it as they are found.
   */
  feed(buf: Buffer, start: number, sink?: DataSink): number {
    if (this.done) return start;
    const len = buf.length;
    if (this.mode === "close") {
      if (sink && len > start) sink(buf, start, len);
      return len;
    }
    if (this.mode === "length") {
      const n = Math.min(this.remaining, len - start);
      this.remaining -= n;
      if (sink && n > 0) sink(buf, start, start + n);
      if (this.remaining === 0) this.done = true;
      return start + n;
    }
    let i = start;
    let state = this.#state;
    while (i < len) {
      const c = buf[i];
      switch (state) {
        case SIZE:
        case SIZE_MORE: {
          const h = hex(c);
          if (h >= 0) {
            // 13 significant hex digits at most (2^52 - 1, exact in a double); leading zeros count toward MAX_META.
            if ((this.remaining !== 0 || h !== 0) && ++this.#digits > 13) throw this.#error("chunk size too large");
            if (++this.#meta > MAX_META) throw this.#error("chunk size line too long");
            this.remaining = this.remaining * 16 + h;
            state = SIZE_MORE;
          } else if (state === SIZE) throw this.#error("malformed chunk size");
          else if (c === 13) state = SIZE_LF;
          else if (c === 59) state = EXT_NAME0;
          else if (c === 32 || c === 9) state = SIZE_BWS;
          else throw this.#error("malformed chunk size");
          i++;
          break;
        }
        case SIZE_BWS:
          if (c === 59) state = EXT_NAME0;
          else if (c !== 32 && c !== 9) throw this.#error("malformed chunk size");
          i++;
          break;
        case EXT_NAME0:
        case EXT_NAME:
        case EXT_AFTER_NAME:
        case EXT_VAL0:
        case EXT_TOKEN:
        case EXT_QUOTED:
        case EXT_QUOTED_PAIR:
        case EXT_AFTER_VAL:
        case EXT_CLOSED:
          if (++this.#meta > MAX_META) throw this.#error("chunk extensions too large");
          state = extStep(state, c);
          if (state < 0) throw this.#error(c === 13 || c === 10 ? "chunk extension cut short by the line end" : `invalid byte 0x${c.toString(16).padStart(2, "0")} in a chunk extension`);
          i++;
          break;
        case SIZE_LF:
          if (c !== 10) throw this.#error("chunk size line not ended by CRLF");
          i++;
          this.#digits = 0;
          state = this.remaining === 0 ? TRAILER : DATA;
          break;
        case DATA: {
          const n = Math.min(this.remaining, len - i);
          if (sink) sink(buf, i, i + n);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (c !== 13) throw this.#error("chunk data not followed by CRLF");
          state = DATA_LF;
          i++;
          break;
        case DATA_LF:
          if (c !== 10) throw this.#error("chunk data not followed by CRLF");
          state = SIZE;
          i++;
          break;
        case TRAILER:
          if (c === 13) state = END_LF;
          else if (TCHAR[c] === 1) state = TRAILER_NAME;
          else throw this.#error("malformed trailer field");
          if (++this.#meta > MAX_META) throw this.#error("trailer section too large");
          i++;
          break;
        case TRAILER_NAME:
          if (c === 58) state = TRAILER_VALUE;
          else if (TCHAR[c] !== 1) throw this.#error(c === 32 || c === 9 ? "whitespace before the colon of a trailer name" : "invalid byte in a trailer name");
          if (++this.#meta > MAX_META) throw this.#error("trailer section too large");
          i++;
          break;
        case TRAILER_VALUE:
          if (c === 13) state = TRAILER_LF;
          else if (VALUE[c] !== 1) throw this.#error("invalid byte in a trailer value");
          if (++this.#meta > MAX_META) throw this.#error("trailer section too large");
          i++;
          break;
        case TRAILER_LF:
          if (c !== 10) throw this.#error("trailer line not ended by CRLF");
          state = TRAILER;
          i++;
          break;
        case END_LF:
          if (c !== 10) throw this.#error("chunked body not ended by CRLF");
          this.#state = DONE;
          this.done = true;
          return i + 1;
      }
    }
    this.#state = state;
    return i;
  }

  /**
   * The stream ended (peer closed). Returns true when that completes the body (read-until-close);
   * false when the body was cut short.
   */
  end(): boolean {
    if (this.done) return true;
    if (this.mode === "close") {
      this.done = true;
      return true;
    }
    return false;
  }

  #error(message: string): HttpParseError {
    return new HttpParseError(this.status, message);
  }
}

/** One byte of a chunk extension (RFC 9112 §7.1.1): the next state, SIZE_LF at its CR, or -1. */
function extStep(state: number, c: number): number {
  const ws = c === 32 || c === 9;
  switch (state) {
    case EXT_NAME0:
      return ws ? EXT_NAME0 : TCHAR[c] === 1 ? EXT_NAME : -1;
    case EXT_NAME:
      return TCHAR[c] === 1 ? EXT_NAME : ws ? EXT_AFTER_NAME : c === 61 ? EXT_VAL0 : c === 59 ? EXT_NAME0 : c === 13 ? SIZE_LF : -1;
    case EXT_AFTER_NAME:
      return ws ? EXT_AFTER_NAME : c === 61 ? EXT_VAL0 : c === 59 ? EXT_NAME0 : -1;
    case EXT_VAL0:
      return ws ? EXT_VAL0 : TCHAR[c] === 1 ? EXT_TOKEN : c === 34 ? EXT_QUOTED : -1;
    case EXT_TOKEN:
      return TCHAR[c] === 1 ? EXT_TOKEN : ws ? EXT_AFTER_VAL : c === 59 ? EXT_NAME0 : c === 13 ? SIZE_LF : -1;
    case EXT_QUOTED:
      return c === 34 ? EXT_CLOSED : c === 92 ? EXT_QUOTED_PAIR : QDTEXT[c] === 1 ? EXT_QUOTED : -1;
    case EXT_QUOTED_PAIR:
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      return c === 9 || (c >= 32 && c !== 127) ? EXT_QUOTED : -1;
    case EXT_CLOSED:
      return ws ? EXT_AFTER_VAL : c === 59 ? EXT_NAME0 : c === 13 ? SIZE_LF : -1;
    default: // EXT_AFTER_VAL: no BWS before the line end
      return ws ? EXT_AFTER_VAL : c === 59 ? EXT_NAME0 : -1;
  }
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
