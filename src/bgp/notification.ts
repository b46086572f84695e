// BGP NOTIFICATION codes (RFC 4271 §4.5 and the RFCs that added subcodes) and the error a bad message raises.

import { TandemError } from "../core/errors.ts";

/** Error codes, RFC 4271 §4.5 (7: RFC 7313). */
export const ERR = { HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER: 4, FSM: 5, CEASE: 6, ROUTE_REFRESH: 7 } as const;

/** Message Header Error subcodes, RFC 4271 §6.1. */
export const HEADER_ERR = { NOT_SYNCHRONIZED: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;

/** OPEN Message Error subcodes, RFC 4271 §6.2 (0: unspecific; 7: RFC 5492). */
export const OPEN_ERR = {
  UNSPECIFIC: 0, UNSUPPORTED_VERSION: 1, BAD_PEER_AS: 2, BAD_BGP_ID: 3, UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6, UNSUPPORTED_CAPABILITY: 7,
} as const;

/** UPDATE Message Error subcodes, RFC 4271 §6.3. */
export const UPDATE_ERR = {
  MALFORMED_ATTRIBUTE_LIST: 1, UNRECOGNIZED_WELL_KNOWN: 2, MISSING_WELL_KNOWN: 3, ATTRIBUTE_FLAGS: 4,
  ATTRIBUTE_LENGTH: 5, INVALID_ORIGIN: 6, INVALID_NEXT_HOP: 8, OPTIONAL_ATTRIBUTE: 9, INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** Finite State Machine Error subcodes, RFC 6608 §4. */
export const FSM_ERR = { UNSPECIFIED: 0, IN_OPENSENT: 1, IN_OPENCONFIRM: 2, IN_ESTABLISHED: 3 } as const;

/** Cease subcodes, RFC 4486 §4 (9: RFC 8538). */
export const CEASE = {
  MAX_PREFIXES: 1, ADMIN_SHUTDOWN: 2, PEER_DECONFIGURED: 3, ADMIN_RESET: 4, CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6, COLLISION: 7, OUT_OF_RESOURCES: 8, HARD_RESET: 9,
} as const;

/** ROUTE-REFRESH Message Error subcodes, RFC 7313 §5. */
export const ROUTE_REFRESH_ERR = { INVALID_LENGTH: 1 } as const;

const CODE_NAMES: Record<number, string> = {
  1: "Message Header Error", 2: "OPEN Message Error", 3: "UPDATE Message Error", 4: "Hold Timer Expired",
  5: "Finite State Machine Error", 6: "Cease", 7: "ROUTE-REFRESH Message Error",
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type" },
  2: {
    0: "Unspecific", 1: "Unsupported Version Number", 2: "Bad Peer AS", 3: "Bad BGP Identifier",
    4: "Unsupported Optional Parameter", 6: "Unacceptable Hold Time", 7: "Unsupported Capability",
  },
  3: {
    1: "Malformed Attribute List", 2: "Unrecognized Well-known Attribute", 3: "Missing Well-known Attribute",
    4: "Attribute Flags Error", 5: "Attribute Length Error", 6: "Invalid ORIGIN Attribute", 8: "Invalid NEXT_HOP Attribute",
    9: "Optional Attribute Error", 10: "Invalid Network Field", 11: "Malformed AS_PATH",
  },
  5: { 1: "Unexpected Message in OpenSent", 2: "Unexpected Message in OpenConfirm", 3: "Unexpected Message in Established" },
  6: {
    1: "Maximum Number of Prefixes Reached", 2: "Administrative Shutdown", 3: "Peer De-configured", 4: "Administrative Reset",
    5: "Connection Rejected", 6: "Other Configuration Change", 7: "Connection Collision Resolution", 8: "Out of Resources", 9: "Hard Reset",
  },
  7: { 1: "Invalid Message Length" },
};

/** What a NOTIFICATION carries. */
export interface Notification {
  code: number;
  subcode: number;
  data: Uint8Array;
}

/**
 * The text of a notification: "UPDATE Message Error / Malformed AS_PATH". For a Cease with
 * subcode 2 or 4, the Shutdown Communication (RFC 9003 §2: a length byte and UTF-8) is appended.
 */
export function describeNotification(n: Notification): string {
  const code = CODE_NAMES[n.code] ?? `error code ${n.code}`;
  const sub = SUBCODE_NAMES[n.code]?.[n.subcode];
  let text = sub ? `${code} / ${sub}` : n.subcode ? `${code} / subcode ${n.subcode}` : code;
  if (n.code === ERR.CEASE && (n.subcode === CEASE.ADMIN_SHUTDOWN || n.subcode === CEASE.ADMIN_RESET) && n.data.length > 0) {
    const len = n.data[0];
    if (len > 0 && len <= 255 && 1 + len <= n.data.length) {
      // A hostile peer's text goes to our log: control characters become "?".
      const message = [...new TextDecoder("utf-8", { fatal: false }).decode(n.data.subarray(1, 1 + len))].map((ch) => (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127 ? "?" : ch)).join("");
      text += `: "${message}"`;
    }
  }
  return text;
}

/** Shutdown Communication data for a Cease (RFC 9003 §2): at most 255 bytes of UTF-8. */
export function shutdownCommunication(message: string): Uint8Array {
  let bytes = new TextEncoder().encode(message);
  while (bytes.length > 255) {
    message = message.slice(0, -1);
    bytes = new TextEncoder().encode(message);
  }
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/**
 * A message the peer sent that RFC 4271 §6 says must be answered with a NOTIFICATION: code
 * E_BGP_MESSAGE, `notification` is what to send back, `message` says what was wrong.
 */
export class BgpMessageError extends TandemError {
  readonly notification: Notification;
  constructor(code: number, subcode: number, data: Uint8Array, reason: string) {
    super("E_BGP_MESSAGE", `${describeNotification({ code, subcode, data: new Uint8Array(0) })}: ${reason}`);
    this.name = "BgpMessageError";
    this.notification = { code, subcode, data };
  }
}
