// One HTTP/1.x message head (request or response): start line, header list and framing facts.

/**
 * A parsed message head. Headers are three parallel arrays (name as received, lower-cased name,
 * value) so rules can edit them in place and the head is written back with one string concat.
 * The framing fields are derived once by the parser (RFC 9112 §6) so nobody rescans the headers.
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
      }
      w++;
    }
    const removed = l.length - w;
    this.names.length = w;
    l.length = w;
    this.values.length = w;
    return removed;
  }

  /** Replaces every field named like name with one field. */
  set(name: string, value: string): void {
    const lname = name.toLowerCase();
    const i = this.indexOf(lname);
    if (i < 0) return this.add(name, value);
    this.values[i] = value;
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
    return this.writeFields(this.method + " " + this.target + " HTTP/1.1\r\n");
  }

  /** The response head as sent to a client: HTTP/1.1 status line (RFC 9112 §4). */
  responseHead(): string {
    return this.writeFields("HTTP/1.1 " + this.status + " " + this.reason + "\r\n");
  }
}

/** Methods whose retry cannot change server state (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE" || method === "PUT" || method === "DELETE";
}
