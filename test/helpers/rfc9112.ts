// A reference parser for HTTP/1.1 message streams (RFC 9112, RFC 9110), independent of src/proxy/http/: short and literal, not fast.

/**
 * The tests judge the proxy with it: what tandem sends to a server or a client must parse here
 * in strict mode (only what a sender may generate), and what a peer sent is read in lenient mode
 * (plus the allowances RFC 9112 and RFC 9110 give recipients) to know where its messages end.
 * Every rule cites its section. Nothing here is shared with the product's parser.
 */

export interface RefField {
  name: string;
  value: string;
}

export interface RefMessage {
  /** Requests: method and request-target; responses: status and reason. */
  method: string;
  target: string;
  status: number;
  reason: string;
  version: string;
  fields: RefField[];
  framing: "none" | "length" | "chunked" | "close";
  /** The payload (chunked: the chunk data, joined). */
  body: Buffer;
  trailers: RefField[];
  /** Offsets of the message in the input: [start, end). */
  start: number;
  end: number;
}

export interface RefParse {
  messages: RefMessage[];
  /** After the last complete message: nothing, a message cut short, bytes that are not a message, or a switch of protocol (101). */
  end: "clean" | "incomplete" | "error" | "switched";
  error?: string;
  /** Where the incomplete or invalid message starts (input length when clean). */
  at: number;
}

export interface RefOptions {
  kind: "request" | "response";
  /**
   * Also accept what RFC 9112/9110 allow a recipient to accept: a bare LF as line end and empty
   * lines before a request line (RFC 9112 §2.2), identical Content-Length values repeated or as a
   * list (RFC 9110 §8.6), Transfer-Encoding over several field lines (RFC 9110 §5.3), and a status
   * line without the SP before an empty reason phrase (what tandem reads from servers).
   */
  lenient?: boolean;
  /** The stream ended because the sender closed: a close-delimited response ends there (RFC 9112 §6.3 item 8). */
  closed?: boolean;
  /** Responses: the method of each request, in order (HEAD responses have no body, RFC 9112 §6.3 item 1). */
  methods?: string[];
}

class Incomplete extends Error {}
class Invalid extends Error {}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 9110 §5.6.2
const TOKEN_SRC = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED_SRC = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"'; // RFC 9110 §5.6.4
/** RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ). */
const CHUNK_EXT = new RegExp(`^(?:[ \\t]*;[ \\t]*${TOKEN_SRC}(?:[ \\t]*=[ \\t]*(?:${TOKEN_SRC}|${QUOTED_SRC}))?)*$`);
/** RFC 9112 §7: transfer-coding = token *( OWS ";" OWS transfer-parameter ). */
const CODING = new RegExp(`^${TOKEN_SRC}(?:[ \\t]*;[ \\t]*${TOKEN_SRC}[ \\t]*=[ \\t]*(?:${TOKEN_SRC}|${QUOTED_SRC}))*$`);
/** RFC 9110 §5.5: field-value = *( field-vchar / SP / HTAB ), field-vchar = VCHAR / obs-text. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/**
 * request-target characters (RFC 9112 §3.2, RFC 3986 §2): visible ASCII except what RFC 3986
 * never allows in a path or query (SP, DQUOTE, "#", "<", ">", "\", "^", "`", "{", "|", "}").
 * "[", "]" and a "%" not followed by two hex digits are accepted, as sent by browsers.
 */
const TARGET = /^[!$%&'()*+,\-./0-9:;=?@A-Z[\]_a-z~]+$/;
/** RFC 9110 §7.2: Host = uri-host [ ":" port ] (reg-name or IP-literal, RFC 3986 §3.2.2). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[-A-Za-z0-9._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
const OWS = /^[ \t]+|[ \t]+$/g; // RFC 9110 §5.6.3: OWS is SP and HTAB, nothing else

/** Parses as many messages as input holds; never throws. */
export function parseMessages(input: Buffer, options: RefOptions): RefParse {
  const messages: RefMessage[] = [];
  const r = new Reader(input, options.lenient === true);
  let requestIndex = 0;
  for (;;) {
    const start = r.pos;
    if (start === input.length) return { messages, end: "clean", at: start };
    try {
      const m = options.kind === "request" ? readRequest(r, options) : readResponse(r, options, options.methods?.[requestIndex] ?? "GET");
      m.start = start;
      m.end = r.pos;
      messages.push(m);
      if (options.kind === "response") {
        if (m.status === 101) return { messages, end: "switched", at: r.pos };
        if (m.status >= 200) requestIndex++;
      }
      if (m.framing === "close") return { messages, end: "clean", at: r.pos };
    } catch (err) {
      if (err instanceof Incomplete) return { messages, end: "incomplete", at: start };
      if (err instanceof Invalid) return { messages, end: "error", error: err.message, at: start };
      throw err;
    }
  }
}

/** A cursor over the input; line reading per RFC 9112 §2.2. */
class Reader {
  readonly b: Buffer;
  readonly lenient: boolean;
  pos = 0;

  constructor(b: Buffer, lenient: boolean) {
    this.b = b;
    this.lenient = lenient;
  }

  /**
   * One line without its end. Strict: CRLF only. Lenient: a bare LF too (RFC 9112 §2.2). A CR
   * not followed by LF is invalid in both (RFC 9112 §2.2: bare CR).
   */
  line(crlfOnly = false): string {
    const lf = this.b.indexOf(10, this.pos);
    if (lf < 0) {
      const cr = this.b.indexOf(13, this.pos);
      if (cr >= 0 && cr + 1 < this.b.length) throw new Invalid("bare CR");
      throw new Incomplete();
    }
    const crlf = lf > this.pos && this.b[lf - 1] === 13;
    if (!crlf && (crlfOnly || !this.lenient)) throw new Invalid("LF without CR");
    const text = this.b.toString("latin1", this.pos, crlf ? lf - 1 : lf);
    if (text.includes("\r")) throw new Invalid("bare CR");
    this.pos = lf + 1;
    return text;
  }

  take(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new Incomplete();
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function message(): RefMessage {
  return { method: "", target: "", status: 0, reason: "", version: "", fields: [], framing: "none", body: Buffer.alloc(0), trailers: [], start: 0, end: 0 };
}

/** RFC 9112 §3: request-line = method SP request-target SP HTTP-version. */
function readRequest(r: Reader, o: RefOptions): RefMessage {
  let line = r.line();
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  while (line === "" && r.lenient) line = r.line();
  const m = message();
  const parts = line.split(" ");
  if (parts.length !== 3) throw new Invalid(`request line "${line}"`);
  [m.method, m.target, m.version] = parts;
  if (!TOKEN.test(m.method)) throw new Invalid("method");
  version(m.version, r.lenient);
  if (!TARGET.test(m.target)) throw new Invalid("request-target characters");
  // RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT), asterisk-form (OPTIONS).
  const form = m.target.startsWith("/") ? "origin" : /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(m.target) ? "absolute" : m.target === "*" ? "asterisk" : "authority";
  if (form === "asterisk" && m.method !== "OPTIONS") throw new Invalid("asterisk-form without OPTIONS");
  if (form === "authority" && m.method !== "CONNECT") throw new Invalid("request-target in no form");
  m.fields = fieldLines(r);
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0, with a valid value.
  const hosts = m.fields.filter((f) => f.name.toLowerCase() === "host");
  if (hosts.length > 1 || (hosts.length === 0 && m.version === "HTTP/1.1")) throw new Invalid(`${hosts.length} Host fields`);
  if (hosts.length === 1 && !HOST.test(hosts[0].value)) throw new Invalid("Host value");
  body(r, m, o, framing(m, "request", r.lenient, ""));
  return m;
}

/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. */
function readResponse(r: Reader, o: RefOptions, method: string): RefMessage {
  const line = r.line();
  const m = message();
  const match = /^(HTTP\/\d\.\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(line);
  if (!match || (match[3] === undefined && !r.lenient)) throw new Invalid(`status line "${line}"`);
  m.version = match[1];
  version(m.version, r.lenient);
  m.status = Number(match[2]);
  if (m.status < 100 || m.status > 599) throw new Invalid("status code"); // RFC 9110 §15
  m.reason = match[3] ?? "";
  m.fields = fieldLines(r);
  body(r, m, o, framing(m, "response", r.lenient, method));
  return m;
}

/** RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; a sender of HTTP/1.x sends 1.0 or 1.1. */
function version(v: string, lenient: boolean): void {
  if (!(lenient ? /^HTTP\/1\.\d$/ : /^HTTP\/1\.[01]$/).test(v)) throw new Invalid(`version "${v}"`);
}

/** RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, up to the empty line. No obs-fold (§5.2). */
function fieldLines(r: Reader, crlfOnly = false): RefField[] {
  const out: RefField[] = [];
  for (;;) {
    const line = r.line(crlfOnly);
    if (line === "") return out;
    if (line[0] === " " || line[0] === "\t") throw new Invalid("obs-fold");
    const colon = line.indexOf(":");
    if (colon < 0) throw new Invalid("field line without a colon");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Invalid(`field name "${name}"`); // also: no whitespace before the colon (§5.1)
    const value = line.slice(colon + 1).replace(OWS, "");
    if (!FIELD_VALUE.test(value)) throw new Invalid(`value of ${name}`);
    out.push({ name, value });
  }
}

/** Comma-separated list elements, OWS trimmed, empty ones dropped (RFC 9110 §5.6.1). */
function elements(v: string): string[] {
  return v.split(",").map((e) => e.replace(OWS, "")).filter((e) => e !== "");
}

/** Sets m.framing by the message body length rules, RFC 9112 §6.3 (RFC 9110 §8.6 for Content-Length); returns the Content-Length. */
function framing(m: RefMessage, kind: "request" | "response", lenient: boolean, method: string): number {
  const cl = m.fields.filter((f) => f.name.toLowerCase() === "content-length");
  const te = m.fields.filter((f) => f.name.toLowerCase() === "transfer-encoding");
  // Items 1-2: no body after HEAD, in 1xx, 204, 304.
  const noBody = kind === "response" && (method === "HEAD" || m.status < 200 || m.status === 204 || m.status === 304);
  if (te.length > 0) {
    if (cl.length > 0) throw new Invalid("Content-Length and Transfer-Encoding"); // item 3: ought to be handled as an error
    if (m.version === "HTTP/1.0") throw new Invalid("Transfer-Encoding in HTTP/1.0"); // RFC 9112 §6.1
    if (te.length > 1 && !lenient) throw new Invalid("Transfer-Encoding on several lines");
    const codings = te.flatMap((f) => {
      const e = elements(f.value);
      if (e.length === 0) throw new Invalid("empty Transfer-Encoding");
      return e;
    });
    for (const c of codings) if (!CODING.test(c)) throw new Invalid(`transfer-coding "${c}"`);
    const chunked = codings.map((c) => c.toLowerCase() === "chunked");
    if (chunked.slice(0, -1).includes(true)) throw new Invalid("chunked applied more than once, or not last"); // RFC 9112 §6.1
    if (noBody) return 0;
    if (chunked[chunked.length - 1]) m.framing = "chunked";
    else if (kind === "request") throw new Invalid("Transfer-Encoding without a final chunked"); // item 4: 400
    else m.framing = "close"; // item 4, responses: read until close
    return 0;
  }
  if (cl.length > 0) {
    const values = cl.flatMap((f) => (lenient ? elements(f.value) : [f.value]));
    if ((cl.length > 1 || values.length !== 1) && !lenient) throw new Invalid("more than one Content-Length value");
    if (values.length === 0 || !values.every((v) => /^[0-9]+$/.test(v)) || new Set(values.map((v) => BigInt(v))).size !== 1) throw new Invalid("Content-Length"); // item 5
    const n = Number(values[0]);
    if (!noBody && n > 0) m.framing = "length";
    return n;
  }
  // Item 7: a request without either has no body; item 8: a response reads until close.
  if (kind === "response" && !noBody) m.framing = "close";
  return 0;
}

/** Reads the body the framing says: a length, chunks (RFC 9112 §7.1), or everything until the close. */
function body(r: Reader, m: RefMessage, o: RefOptions, length: number): void {
  if (m.framing === "length") m.body = Buffer.from(r.take(length));
  else if (m.framing === "close") {
    if (!o.closed) throw new Incomplete();
    m.body = Buffer.from(r.take(r.b.length - r.pos));
  } else if (m.framing === "chunked") {
    const data: Buffer[] = [];
    for (;;) {
      // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*("0") [ chunk-ext ] CRLF
      const line = r.line(true);
      const size = /^[0-9A-Fa-f]+/.exec(line)?.[0];
      if (size === undefined || !CHUNK_EXT.test(line.slice(size.length))) throw new Invalid(`chunk line "${line}"`);
      const n = Number.parseInt(size, 16);
      if (!Number.isSafeInteger(n)) throw new Incomplete();
      if (n === 0) break;
      data.push(r.take(n));
      if (r.take(2).toString("latin1") !== "\r\n") throw new Invalid("chunk data not followed by CRLF");
    }
    // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2).
    m.trailers = fieldLines(r, true);
    m.body = Buffer.concat(data);
  } else m.body = Buffer.alloc(0);
}
