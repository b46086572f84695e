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
const EXT = 3; // chunk extension up to CR
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
          else if (c === 59) state = EXT;
          else if (c === 32 || c === 9) state = SIZE_BWS;
          else throw this.#error("malformed chunk size");
          i++;
          break;
        }
        case SIZE_BWS:
          if (c === 59) state = EXT;
          else if (c !== 32 && c !== 9) throw this.#error("malformed chunk size");
          i++;
          break;
        case EXT:
          if (c === 13) state = SIZE_LF;
          else if (VALUE[c] !== 1) throw this.#error("invalid byte in a chunk extension");
          else if (++this.#meta > MAX_META) throw this.#error("chunk extensions too large");
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

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}
