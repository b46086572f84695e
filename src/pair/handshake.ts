// The pair link's handshake: both hosts prove they hold the pair key and agree on fresh keys for
// the connection, as a pure step() over its states. The dialing host (client) proves first, so a
// stranger who reaches the listening port learns nothing it could test keys against.
//
//   client → server  HELLO   "TNDMPAIR" version role nonce(32) x25519 public key(32)
//   server → client  HELLO   same fields
//   client → server  FINISH  HMAC(client MAC key, "tandem client finished")
//   server → client  FINISH  HMAC(server MAC key, "tandem server finished")
//
// Keys: HKDF-SHA256 (RFC 5869) over the stretched pair key and the X25519 secret (RFC 7748),
// salted with SHA-256 of both hellos: a MAC key per side and an AES-256-GCM key per direction.
// The X25519 keys are new for every connection (forward secrecy: a key learned later does not
// open recorded traffic). A refusal is sent as "TNDMNOPE" code reason, then the connection closes.

import { createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { Role } from "../config/types.ts";

export const PROTOCOL_VERSION = 1;
const MAGIC = Buffer.from("TNDMPAIR", "latin1");
const NOPE = Buffer.from("TNDMNOPE", "latin1");
const HELLO_LENGTH = 8 + 1 + 1 + 32 + 32;
const MAC_LENGTH = 32;
/** The DER prefix of an X25519 SubjectPublicKeyInfo (RFC 8410): the raw 32 bytes follow it. */
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const ROLE_CODE: Record<Role, number> = { master: 0, backup: 1 };
const ROLE_NAME: Role[] = ["master", "backup"];

/** Why a handshake failed, as a stable code (the peer is told it) and words for the log. */
export type RefusalCode = "protocol" | "version" | "role" | "key";

/** The pair key stretched with scrypt, so a key guessed offline costs a full scrypt each try. */
export function stretchKey(key: string): Buffer {
  return scryptSync(key, "tandem pair link v1", 32, { N: 1 << 14, r: 8, p: 1 });
}

/** What one side needs: its role, the peer's, the stretched key, and fresh randomness. */
export interface HandshakeConfig {
  side: "client" | "server";
  role: Role;
  peerRole: Role;
  psk: Buffer;
  nonce: Buffer;
  privateKey: KeyObject;
  /** Our X25519 public key, raw 32 bytes. */
  publicKey: Buffer;
}

/** Fresh nonce and X25519 key pair for one connection. */
export function freshSecrets(): Pick<HandshakeConfig, "nonce" | "privateKey" | "publicKey"> {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const der = publicKey.export({ format: "der", type: "spki" });
  return { nonce: randomBytes(32), privateKey, publicKey: Buffer.from(der.subarray(der.length - 32)) };
}

export interface SessionKeys {
  send: Buffer;
  receive: Buffer;
}

export type HandshakeState =
  | { name: "client_hello_sent"; helloC: Buffer }
  | { name: "server_wait_hello" }
  | { name: "client_finish_sent"; keys: DerivedKeys }
  | { name: "server_wait_finish"; keys: DerivedKeys }
  | { name: "established" }
  | { name: "failed" };

export type HandshakeAction =
  | { type: "send"; payload: Buffer }
  | { type: "established"; keys: SessionKeys }
  /** Close the connection; `tell`: send this frame first (the refusal, for the peer's log). */
  | { type: "refuse"; code: RefusalCode; reason: string; tell?: Buffer; byPeer: boolean };

export interface HandshakeStep {
  state: HandshakeState;
  actions: HandshakeAction[];
}

interface DerivedKeys {
  macC: Buffer;
  macS: Buffer;
  c2s: Buffer;
  s2c: Buffer;
}

function hello(cfg: HandshakeConfig): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([PROTOCOL_VERSION, ROLE_CODE[cfg.role]]), cfg.nonce, cfg.publicKey]);
}

const macOf = (key: Buffer, label: string) => createHmac("sha256", key).update(label).digest();
const sameMac = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

/** The refusal frame: "TNDMNOPE", the code, a short reason (UTF-8). */
export function refusalFrame(code: RefusalCode, reason: string): Buffer {
  return Buffer.concat([NOPE, Buffer.from(`${code} ${reason}`.slice(0, 200), "utf8")]);
}

function refuse(code: RefusalCode, reason: string, tellPeer: boolean, tellText = reason): HandshakeStep {
  return { state: { name: "failed" }, actions: [{ type: "refuse", code, reason, tell: tellPeer ? refusalFrame(code, tellText) : undefined, byPeer: false }] };
}

/** Reads a peer's hello; a problem comes back as a refusal to send. */
function readHello(cfg: HandshakeConfig, payload: Buffer): { nonce: Buffer; publicKey: Buffer } | HandshakeStep {
  if (payload.length !== HELLO_LENGTH || !payload.subarray(0, 8).equals(MAGIC)) return refuse("protocol", "not a tandem pair hello (is something else listening on the pair port?)", true);
  const version = payload[8];
  if (version !== PROTOCOL_VERSION) return refuse("version", `the peer speaks pair protocol ${version}, this host ${PROTOCOL_VERSION}: run the same tandem version on both hosts`, true);
  const role = ROLE_NAME[payload[9]];
  if (role !== cfg.peerRole) {
    const theirs = role ?? `unknown (${payload[9]})`;
    return refuse("role", `the peer runs as ${theirs}, expected ${cfg.peerRole} (both hosts started with --role ${cfg.role}?)`, true);
  }
  return { nonce: payload.subarray(10, 42), publicKey: payload.subarray(42, 74) };
}

/** HKDF over the stretched key and the X25519 secret, salted with both hellos; undefined for a bad key share. */
function derive(cfg: HandshakeConfig, helloC: Buffer, helloS: Buffer, peerPublic: Buffer): DerivedKeys | undefined {
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI, peerPublic]), format: "der", type: "spki" });
    shared = diffieHellman({ privateKey: cfg.privateKey, publicKey });
  } catch {
    return undefined;
  }
  // An all-zero secret comes from a low-order point (RFC 7748 §6.1): refuse it.
  if (shared.every((b) => b === 0)) return undefined;
  const salt = createHash("sha256").update(helloC).update(helloS).digest();
  const okm = Buffer.from(hkdfSync("sha256", Buffer.concat([cfg.psk, shared]), salt, "tandem pair v1 keys", 128));
  return { macC: okm.subarray(0, 32), macS: okm.subarray(32, 64), c2s: okm.subarray(64, 96), s2c: okm.subarray(96, 128) };
}

/** The first step: the client sends its hello; the server waits for one. */
export function startHandshake(cfg: HandshakeConfig): HandshakeStep {
  if (cfg.side === "server") return { state: { name: "server_wait_hello" }, actions: [] };
  const helloC = hello(cfg);
  return { state: { name: "client_hello_sent", helloC }, actions: [{ type: "send", payload: helloC }] };
}

type Handler<S extends HandshakeState["name"]> = (cfg: HandshakeConfig, state: Extract<HandshakeState, { name: S }>, payload: Buffer) => HandshakeStep;

const unexpected = (_cfg: HandshakeConfig, state: HandshakeState): HandshakeStep => refuse("protocol", `unexpected handshake frame in state ${state.name}`, false);

/** The transition table: state → what a frame from the peer does. */
const TRANSITIONS: { [S in HandshakeState["name"]]: Handler<S> } = {
  server_wait_hello(cfg, _state, payload) {
    const peer = readHello(cfg, payload);
    if ("state" in peer) return peer;
    const helloS = hello(cfg);
    const keys = derive(cfg, payload, helloS, peer.publicKey);
    if (!keys) return refuse("protocol", "the peer's key share is not a valid X25519 public key", true);
    return { state: { name: "server_wait_finish", keys }, actions: [{ type: "send", payload: helloS }] };
  },
  client_hello_sent(cfg, state, payload) {
    const peer = readHello(cfg, payload);
    if ("state" in peer) return peer;
    const keys = derive(cfg, state.helloC, payload, peer.publicKey);
    if (!keys) return refuse("protocol", "the peer's key share is not a valid X25519 public key", true);
    return { state: { name: "client_finish_sent", keys }, actions: [{ type: "send", payload: macOf(keys.macC, "tandem client finished") }] };
  },
  server_wait_finish(_cfg, state, payload) {
    const want = macOf(state.keys.macC, "tandem client finished");
    if (payload.length !== MAC_LENGTH || !sameMac(payload, want)) return refuse("key", "the peer does not hold the pair key (pair.key differs between the hosts)", true, "key mismatch");
    return {
      state: { name: "established" },
      actions: [{ type: "send", payload: macOf(state.keys.macS, "tandem server finished") }, { type: "established", keys: { send: state.keys.s2c, receive: state.keys.c2s } }],
    };
  },
  client_finish_sent(_cfg, state, payload) {
    const want = macOf(state.keys.macS, "tandem server finished");
    if (payload.length !== MAC_LENGTH || !sameMac(payload, want)) return refuse("key", "the peer does not hold the pair key (pair.key differs between the hosts)", false);
    return { state: { name: "established" }, actions: [{ type: "established", keys: { send: state.keys.c2s, receive: state.keys.s2c } }] };
  },
  established: unexpected,
  failed: unexpected,
};

/** A refusal frame from the peer, read for the log. */
function peerRefusal(payload: Buffer): HandshakeStep {
  const text = payload.subarray(NOPE.length).toString("utf8");
  const space = text.indexOf(" ");
  const code = (space > 0 ? text.slice(0, space) : text) as RefusalCode;
  const reason = code === "key" ? "the peer refused our key: pair.key differs between the hosts" : `the peer refused the handshake: ${space > 0 ? text.slice(space + 1) : code}`;
  return { state: { name: "failed" }, actions: [{ type: "refuse", code: ["protocol", "version", "role", "key"].includes(code) ? code : "protocol", reason, byPeer: true }] };
}

/** One frame from the peer. Pure apart from the key agreement's arithmetic. */
export function stepHandshake(cfg: HandshakeConfig, state: HandshakeState, payload: Buffer): HandshakeStep {
  if (payload.length >= NOPE.length && payload.subarray(0, NOPE.length).equals(NOPE)) return peerRefusal(payload);
  return (TRANSITIONS[state.name] as Handler<HandshakeState["name"]>)(cfg, state as never, payload);
}
