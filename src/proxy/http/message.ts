// One HTTP/1.x message head (request or response): start line, header list and framing facts.

import type { TlsInfo } from "../../tls/info.ts";

/**
 * A parsed message head. Headers are three parallel arrays (name as received, lower-cased name,
 * value) so rules can edit them in place. The framing fields are derived once by the parser
 * (RFC 9112 §6) so nobody rescans the headers. The received bytes are kept (`raw`): a head that
 * goes out unchanged is forwarded as it came, an edited one is rebuilt from the unchanged line
 * ranges of `raw` plus the new lines, into one Buffer (one write).
 */
export class HttpMessage {
  // Request start line (RFC 9112 §3).
  method = "";
  /** The path (origin-form), without the query; "*" for asterisk-form, authority for CONNECT. */
  path = "";
  /** The query including its "?", or "". */
  search = "";
  /** True when the target was absolute-form ("http://host/..."), RFC 9112 §3.2.2. */
  absolute = false;
  /** Lower-cased host without port (from Host, or from an absolute-form target). */
  host = "";
  // Response start line (RFC 9112 §4).
  status = 0;
  reason = "";
  /** HTTP/1.<minor>: 0 or 1. */
  minor = 1;

  readonly names: string[] = [];
  readonly lower: string[] = [];
  readonly values: string[] = [];
  /**
   * Per field, the offset of its line in `raw` when that line reads exactly `name: value` CRLF
   * (so it can be copied as it is), else -1 (added, changed, or received in another form).
   * Change fields only through add/set/delete/setValue, which keep this in step.
   */
  readonly spans: number[] = [];
  /** The head as received (start line to the empty line), or undefined for a message built here. */
  raw: Buffer | undefined;
  /** Length of the start line in raw when it is forwardable as is (CRLF, HTTP/1.1, origin-form), else 0. */
  rawStart = 0;
  /** Fields were added, removed or changed, or a line was not canonical: raw alone will not do. */
  edited = false;
  /** As parsed, every line of raw was canonical (CRLF, `name: value`). */
  rawTidy = false;
  /** Start-line values as received, to notice rules that change them. */
  rawMethod = "";
  rawPath = "";
  rawSearch = "";
  rawStatus = 0;
  rawReason = "";

  /** Content-Length, or -1 when absent. */
  contentLength = -1;
  /** Transfer-Encoding ends with chunked (RFC 9112 §6.1). */
  chunked = false;
  /** Connection options (RFC 9110 §7.6.1). */
  connClose = false;
  connKeepAlive = false;
  connUpgrade = false;
  /** Other Connection options: names of more hop-by-hop fields, lower-cased. */
  connOther: string[] | undefined;
  /** Upgrade field value ("" when absent). */
  upgrade = "";
  /** Expect field value, lower-cased ("" when absent). */
  expect = "";
  /** The client connection's TLS facts (set by the session for the tls/sni conditions); undefined on plain HTTP. */
  tls: TlsInfo | undefined = undefined;

  /** Request target as forwarded (origin-form). */
  get target(): string {
    return this.search === "" ? this.path : this.path + this.search;
  }

  /** Index of the first field named lname (lower-case), or -1. */
  indexOf(lname: string, from = 0): number {
    const l = this.lower;
    for (let i = from; i < l.length; i++) if (l[i] === lname) return i;
    return -1;
  }

  /** First value of a field, or undefined. */
  get(lname: string): string | undefined {
    const i = this.indexOf(lname);
    return i < 0 ? undefined : this.values[i];
  }

  /** Every value of a field, in order. */
  getAll(lname: string): string[] {
    const out: string[] = [];
    const l = this.lower;
    for (let i = 0; i < l.length; i++) if (l[i] === lname) out.push(this.values[i]);
    return out;
  }

  /** Appends a field. */
  add(name: string, value: string): void {
    this.names.push(name);
    this.lower.push(name.toLowerCase());
    this.values.push(value);
    this.spans.push(-1);
    this.edited = true;
  }

  /** Replaces the value of field i. */
  setValue(i: number, value: string): void {
    if (this.values[i] === value) return;
    this.values[i] = value;
    this.spans[i] = -1;
    this.edited = true;
  }

  /** Removes every field named lname; returns how many were removed. */
  delete(lname: string): number {
    const l = this.lower;
    let w = 0;
    for (let r = 0; r < l.length; r++) {
      if (l[r] === lname) continue;
      if (w !== r) {
        this.names[w] = this.names[r];
        l[w] = l[r];
        this.values[w] = this.values[r];
        this.spans[w] = this.spans[r];
      }
      w++;
    }
    const removed = l.length - w;
    if (removed === 0) return 0;
    for (let k = 0; k < removed; k++) {
      // pop() rather than setting length, which is a runtime call
      this.names.pop();
      l.pop();
      this.values.pop();
      this.spans.pop();
    }
    this.edited = true;
    return removed;
  }

  /** Removes field i. */
  removeAt(i: number): void {
    this.names.splice(i, 1);
    this.lower.splice(i, 1);
    this.values.splice(i, 1);
    this.spans.splice(i, 1);
    this.edited = true;
  }

  /** Replaces every field named like name with one field. */
  set(name: string, value: string): void {
    const lname = name.toLowerCase();
    const i = this.indexOf(lname);
    if (i < 0) return this.add(name, value);
    this.setValue(i, value);
    const j = this.indexOf(lname, i + 1);
    if (j >= 0) {
      const keep = this.values[i];
      this.delete(lname);
      this.add(name, keep);
    }
  }

  /** Serializes the header block (each field + CRLF, then the empty line) onto head. */
  writeFields(head: string): string {
    const n = this.names;
    const v = this.values;
    for (let i = 0; i < n.length; i++) head += n[i] + ": " + v[i] + "\r\n";
    return head + "\r\n";
  }

  /** The request head as sent to a server: always HTTP/1.1 (RFC 9110 §2.5), origin-form target. */
  requestHead(): string {
    return this.writeFields(this.#requestLine());
  }

  /** The response head as sent to a client: HTTP/1.1 status line (RFC 9112 §4). */
  responseHead(): string {
    return this.writeFields(this.#statusLine());
  }

  /** requestHead() as bytes, reusing the received ones where nothing changed. */
  requestBytes(): Buffer {
    const same = this.rawStart > 0 && this.method === this.rawMethod && this.path === this.rawPath && this.search === this.rawSearch;
    return this.#bytes(same ? undefined : this.#requestLine());
  }

  /**
   * responseHead() as bytes, reusing the received ones where nothing changed, followed by `tail`
   * (body bytes that came with the head) so both go out in one write.
   */
  responseBytes(tail?: Buffer): Buffer {
    const same = this.rawStart > 0 && this.status === this.rawStatus && this.reason === this.rawReason;
    return this.#bytes(same ? undefined : this.#statusLine(), tail);
  }

  #requestLine(): string {
    return this.method + " " + this.target + " HTTP/1.1\r\n";
  }

  #statusLine(): string {
    return "HTTP/1.1 " + this.status + " " + this.reason + "\r\n";
  }

  /** The head with startLine (undefined: the received one), unchanged field lines copied from raw, then tail. */
  #bytes(startLine: string | undefined, tail?: Buffer): Buffer {
    const raw = this.raw;
    if (raw === undefined) {
      const head = Buffer.from(this.writeFields(startLine ?? ""), "latin1");
      return tail === undefined ? head : Buffer.concat([head, tail]);
    }
    if (startLine === undefined && !this.edited) {
      if (tail === undefined) return raw;
      // The body right behind the head in the same chunk: one view over both.
      if (follows(raw, tail)) return Buffer.from(raw.buffer, raw.byteOffset, raw.length + tail.length);
      return Buffer.concat([raw, tail]);
    }
    const n = this.names;
    const v = this.values;
    const spans = this.spans;
    if (startLine === undefined && this.rawTidy && (tail === undefined || follows(raw, tail)) && !spans.includes(-1)) return this.#compact(raw, tail);
    let size = (startLine === undefined ? this.rawStart : startLine.length) + 2 + (tail === undefined ? 0 : tail.length);
    for (let i = 0; i < n.length; i++) size += n[i].length + v[i].length + 4;
    const out = Buffer.allocUnsafe(size);
    let w = startLine === undefined ? raw.copy(out, 0, 0, this.rawStart) : out.write(startLine, 0, "latin1");
    for (let i = 0; i < n.length;) {
      const s = spans[i];
      if (s < 0) {
        w += out.write(n[i] + ": " + v[i] + "\r\n", w, "latin1");
        i++;
        continue;
      }
      // A run of lines that follow each other in raw: one copy.
      let e = s + n[i].length + v[i].length + 4;
      for (i++; i < n.length && spans[i] === e; i++) e += n[i].length + v[i].length + 4;
      w += raw.copy(out, w, s, e);
    }
    out[w] = 13;
    out[w + 1] = 10;
    if (tail !== undefined) tail.copy(out, w + 2);
    return out;
  }

  /**
   * Lines were only removed (the hop-by-hop fields of a response, typically): the kept ones are
   * moved up to the end of raw in place, closing the gaps, so no new buffer is needed. raw is used
   * up by that; later calls serialize the fields instead.
   */
  #compact(raw: Buffer, tail: Buffer | undefined): Buffer {
    const n = this.names;
    const v = this.values;
    const spans = this.spans;
    let w = raw.length - 2; // the final CRLF stays where it is
    for (let i = n.length - 1; i >= 0;) {
      // A run of kept lines that are adjacent in raw moves as one.
      let s = spans[i];
      const e = s + n[i].length + v[i].length + 4;
      for (i--; i >= 0 && spans[i] + n[i].length + v[i].length + 4 === s; i--) s = spans[i];
      w -= e - s;
      if (s !== w) raw.copyWithin(w, s, e);
    }
    w -= this.rawStart;
    if (w !== 0) raw.copyWithin(w, 0, this.rawStart);
    this.raw = undefined;
    this.rawStart = 0;
    return Buffer.from(raw.buffer, raw.byteOffset + w, raw.length - w + (tail === undefined ? 0 : tail.length));
  }
}

/** tail starts right where head ends, in the same memory. */
function follows(head: Buffer, tail: Buffer): boolean {
  return tail.buffer === head.buffer && tail.byteOffset === head.byteOffset + head.length;
}

/** Methods whose retry cannot change server state (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE" || method === "PUT" || method === "DELETE";
}
