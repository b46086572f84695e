// BGP-4 messages on the wire (RFC 4271 §4): the header, OPEN with capabilities, KEEPALIVE,
// NOTIFICATION and ROUTE-REFRESH; UPDATE bodies are in update.ts. Decoding checks what RFC 4271 §6
// asks and throws BgpMessageError carrying the NOTIFICATION to send back.

import { isIPv4 } from "node:net";
import { BgpMessageError, ERR, HEADER_ERR, OPEN_ERR, ROUTE_REFRESH_ERR } from "./notification.ts";
import type { Notification } from "./notification.ts";
import { decodeUpdate } from "./update.ts";
import type { DecodedUpdate, UpdateContext } from "./update.ts";

export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: no message is longer (RFC 8654's extended messages are not offered). */
export const MAX_MESSAGE_LENGTH = 4096;
export const TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;
/** RFC 6793 §9: the 2-byte stand-in for an AS number above 65535. */
export const AS_TRANS = 23456;
/** Address families (AFI, RFC 4760) with the unicast SAFI (1). */
export const AFI = { 4: 1, 6: 2 } as const;
export const SAFI_UNICAST = 1;
/** Capability codes (RFC 5492 §4): multiprotocol (RFC 4760), route refresh (RFC 2918), 4-octet AS (RFC 6793). */
export const CAP = { MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, AS4: 65 } as const;

/** Smallest body-inclusive length per type (RFC 4271 §4.2–4.5, RFC 2918 §3). */
const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export interface Capability {
  code: number;
  value: Uint8Array;
}

export interface OpenMessage {
  type: "open";
  version: number;
  /** The 2-byte "My Autonomous System" field (AS_TRANS when the real AS needs 4 bytes). */
  myAs: number;
  /** Seconds; 0 = no keepalives. */
  holdTime: number;
  routerId: string;
  capabilities: Capability[];
}

export type BgpMessage =
  | OpenMessage
  | ({ type: "update" } & DecodedUpdate)
  | ({ type: "notification" } & Notification)
  | { type: "keepalive" }
  | { type: "route_refresh"; afi: number; safi: number };

/** What an OPEN says about the peer, read from its fields and capabilities. */
export interface OpenSummary {
  /** The peer's AS: the 4-octet capability's when present (RFC 6793 §4.1), else My AS. */
  as: number;
  as4: boolean;
  /** Families it offers: multiprotocol capabilities, or IPv4 unicast when it sends none (RFC 4760 §8). */
  families: (4 | 6)[];
  routeRefresh: boolean;
}

const u16 = (n: number) => [(n >>> 8) & 255, n & 255];
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** Wraps a body in the header: 16 bytes of ones, the length, the type. */
export function frame(type: number, body: Uint8Array | number[]): Uint8Array {
  const out = new Uint8Array(HEADER_LENGTH + body.length);
  out.fill(0xff, 0, 16);
  out[16] = (out.length >>> 8) & 255;
  out[17] = out.length & 255;
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

/** The capabilities tandem offers: the session's family, route refresh, 4-octet AS. */
export function ourCapabilities(localAs: number, families: (4 | 6)[]): Capability[] {
  return [
    ...families.map((f) => ({ code: CAP.MULTIPROTOCOL, value: Uint8Array.from([...u16(AFI[f]), 0, SAFI_UNICAST]) })),
    { code: CAP.ROUTE_REFRESH, value: new Uint8Array(0) },
    { code: CAP.AS4, value: Uint8Array.from(u32(localAs)) },
  ];
}

/** An OPEN (RFC 4271 §4.2), all capabilities in one Capabilities optional parameter (RFC 5492 §4). */
export function encodeOpen(o: { localAs: number; holdTime: number; routerId: string; capabilities: Capability[] }): Uint8Array {
  const caps = o.capabilities.flatMap((c) => [c.code, c.value.length, ...c.value]);
  const params = caps.length ? [2, caps.length, ...caps] : [];
  const myAs = o.localAs > 0xffff ? AS_TRANS : o.localAs;
  return frame(TYPE.OPEN, [4, ...u16(myAs), ...u16(o.holdTime), ...o.routerId.split(".").map(Number), params.length, ...params]);
}

export function encodeKeepalive(): Uint8Array {
  return frame(TYPE.KEEPALIVE, []);
}

export function encodeNotification(n: Notification): Uint8Array {
  return frame(TYPE.NOTIFICATION, [n.code, n.subcode, ...n.data]);
}

export function encodeRouteRefresh(afi: number, safi: number): Uint8Array {
  return frame(TYPE.ROUTE_REFRESH, [...u16(afi), 0, safi]);
}

/** Reads what the peer's OPEN offers. */
export function summarizeOpen(o: OpenMessage): OpenSummary {
  let as = o.myAs;
  let as4 = false;
  let routeRefresh = false;
  const families = new Set<4 | 6>();
  let anyMp = false;
  for (const c of o.capabilities) {
    if (c.code === CAP.AS4 && c.value.length === 4) {
      as4 = true;
      as = new DataView(c.value.buffer, c.value.byteOffset, 4).getUint32(0);
    } else if (c.code === CAP.ROUTE_REFRESH) routeRefresh = true;
    else if (c.code === CAP.MULTIPROTOCOL && c.value.length === 4) {
      anyMp = true;
      const afi = (c.value[0] << 8) | c.value[1];
      if (c.value[3] !== SAFI_UNICAST) continue;
      if (afi === AFI[4]) families.add(4);
      if (afi === AFI[6]) families.add(6);
    }
  }
  return { as, as4, families: anyMp ? [...families] : [4], routeRefresh };
}

/**
 * Splits a byte stream into whole messages, checking each header as it arrives (RFC 4271 §6.1):
 * a marker that is not all ones, a length out of 19..4096 or below its type's minimum, or an
 * unknown type throws BgpMessageError (after which the stream cannot be trusted).
 */
export class MessageReader {
  #buf = new Uint8Array(0);

  /** Adds bytes; returns the messages now complete (header included). */
  push(chunk: Uint8Array): Uint8Array[] {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    const out: Uint8Array[] = [];
    let at = 0;
    while (merged.length - at >= HEADER_LENGTH) {
      const length = checkHeader(merged.subarray(at, at + HEADER_LENGTH));
      if (merged.length - at < length) break;
      out.push(merged.slice(at, at + length));
      at += length;
    }
    this.#buf = merged.slice(at);
    return out;
  }

  /** Bytes held for an incomplete message. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** Checks a header (RFC 4271 §6.1); returns the message length. */
export function checkHeader(h: Uint8Array): number {
  for (let i = 0; i < 16; i++) {
    if (h[i] !== 0xff) throw new BgpMessageError(ERR.HEADER, HEADER_ERR.NOT_SYNCHRONIZED, new Uint8Array(0), "the marker is not all ones");
  }
  const length = (h[16] << 8) | h[17];
  const type = h[18];
  const lengthField = h.slice(16, 18);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw new BgpMessageError(ERR.HEADER, HEADER_ERR.BAD_LENGTH, lengthField, `length ${length} is out of range (must be 19..4096)`);
  }
  if (!(type in MIN_LENGTH)) throw new BgpMessageError(ERR.HEADER, HEADER_ERR.BAD_TYPE, Uint8Array.of(type), `unknown message type ${type}`);
  if (length < MIN_LENGTH[type] || (type === TYPE.KEEPALIVE && length !== HEADER_LENGTH)) {
    const expected = type === TYPE.KEEPALIVE ? "exactly 19" : `at least ${MIN_LENGTH[type]}`;
    throw new BgpMessageError(ERR.HEADER, HEADER_ERR.BAD_LENGTH, lengthField, `a ${TYPE_NAMES[type]} of length ${length} (must be ${expected})`);
  }
  return length;
}

export const TYPE_NAMES: Record<number, string> = { 1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH" };

/**
 * Decodes one whole message (header included; checkHeader has passed). `update` is the session's
 * context for UPDATE bodies (undefined before the OPEN exchange: the body is then not read, the
 * state machine refuses the message anyway). Throws BgpMessageError.
 */
export function decodeMessage(msg: Uint8Array, update?: UpdateContext): BgpMessage {
  checkHeader(msg);
  const body = msg.subarray(HEADER_LENGTH);
  switch (msg[18]) {
    case TYPE.OPEN:
      return decodeOpen(body);
    case TYPE.UPDATE:
      return update ? { type: "update", ...decodeUpdate(body, update) } : { type: "update", withdrawn: [], nlri: [], attributes: {} };
    case TYPE.NOTIFICATION:
      return { type: "notification", code: body[0], subcode: body[1], data: body.slice(2) };
    case TYPE.KEEPALIVE:
      return { type: "keepalive" };
    default: {
      // RFC 7313 §5: a ROUTE-REFRESH of any other length is an error of its own.
      if (msg.length !== 23) throw new BgpMessageError(ERR.ROUTE_REFRESH, ROUTE_REFRESH_ERR.INVALID_LENGTH, msg.slice(), `a ROUTE-REFRESH of length ${msg.length} (must be 23)`);
      return { type: "route_refresh", afi: (body[0] << 8) | body[1], safi: body[3] };
    }
  }
}

const openError = (subcode: number, reason: string, data = new Uint8Array(0)) => new BgpMessageError(ERR.OPEN, subcode, data, reason);

/** An OPEN body (RFC 4271 §4.2), checked as §6.2 asks for what needs no configuration. */
function decodeOpen(b: Uint8Array): OpenMessage {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const version = b[0];
  // RFC 4271 §6.2: the data is the largest version we support, 4.
  if (version !== 4) throw openError(OPEN_ERR.UNSUPPORTED_VERSION, `version ${version} (tandem speaks BGP-4)`, Uint8Array.of(0, 4));
  const myAs = v.getUint16(1);
  const holdTime = v.getUint16(3);
  const routerId = `${b[5]}.${b[6]}.${b[7]}.${b[8]}`;
  // RFC 4271 §6.2: a hold time of one or two seconds MUST be rejected.
  if (holdTime === 1 || holdTime === 2) throw openError(OPEN_ERR.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}s (must be 0 or at least 3s)`);
  // RFC 6286 §2.1: the identifier is a non-zero 32-bit number.
  if (routerId === "0.0.0.0" || !isIPv4(routerId)) throw openError(OPEN_ERR.BAD_BGP_ID, `BGP identifier ${routerId}`, b.slice(5, 9));
  let paramLen = b[9];
  let at = 10;
  let wide = false;
  // RFC 9072 §2: length 255 followed by type 255 announces 2-byte parameter lengths.
  if (paramLen === 255 && b.length > 12 && b[10] === 255) {
    paramLen = v.getUint16(11);
    at = 13;
    wide = true;
  }
  if (at + paramLen !== b.length) throw openError(OPEN_ERR.UNSPECIFIC, `optional parameters length ${paramLen} does not match the message (${b.length - at} bytes follow)`);
  const capabilities: Capability[] = [];
  const end = at + paramLen;
  while (at < end) {
    const head = wide ? 3 : 2;
    if (at + head > end) throw openError(OPEN_ERR.UNSPECIFIC, "an optional parameter is cut short");
    const type = b[at];
    const len = wide ? v.getUint16(at + 1) : b[at + 1];
    const start = at + head;
    if (start + len > end) throw openError(OPEN_ERR.UNSPECIFIC, `optional parameter ${type} of length ${len} runs past the message`);
    // RFC 5492 §4: type 2 is Capabilities; RFC 4271 §6.2: any other type is unsupported.
    if (type !== 2) throw openError(OPEN_ERR.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${type}`);
    let c = start;
    while (c < start + len) {
      if (c + 2 > start + len || c + 2 + b[c + 1] > start + len) throw openError(OPEN_ERR.UNSPECIFIC, "a capability runs past its parameter");
      capabilities.push({ code: b[c], value: b.slice(c + 2, c + 2 + b[c + 1]) });
      c += 2 + b[c + 1];
    }
    at = start + len;
  }
  return { type: "open", version, myAs, holdTime, routerId, capabilities };
}
