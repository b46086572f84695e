// What the hosts tell each other inside records: a type byte, then JSON (state, config, requests,
// certificates) or binary (stick entries, src/pair/stick_codec.ts). Everything read is checked:
// a message that does not fit its schema ends the connection with a clear reason, never a crash.

import { z } from "zod";
import { TandemError } from "../core/errors.ts";

export const MSG = {
  state: 1,
  config: 2,
  sticks: 3,
  sticksAck: 4,
  resync: 5,
  request: 6,
  response: 7,
  cert: 8,
  certs: 9,
} as const;

export type MessageType = (typeof MSG)[keyof typeof MSG];

/** A message that cannot be understood: code E_PAIR_MESSAGE (the connection is closed). */
export class MessageError extends TandemError {
  constructor(message: string) {
    super("E_PAIR_MESSAGE", message);
  }
}

const name = z.string().max(256);
const text = z.string().max(4096);

const instanceSchema = z.object({
  instance: name,
  vrid: z.number().int().min(0).max(255),
  state: name,
  priority: z.number(),
  basePriority: z.number(),
  vips: z.array(name).max(256),
  master: name.optional(),
  fault: text.optional(),
  since: z.number().optional(),
  preempt: z.boolean().optional(),
  track: z.array(z.object({ name, weight: z.number(), ok: z.boolean(), detail: text })).max(256),
  lastAdvert: z.object({ src: name, priority: z.number(), ago: z.number() }).optional(),
});

/** What a host says about itself, on connect, on every change and every second. */
export const peerStateSchema = z.object({
  hostname: name,
  role: z.enum(["master", "backup"]),
  version: name,
  pid: z.number(),
  startedAt: z.number(),
  sentAt: z.number(),
  config: z.object({ hash: name }),
  healthy: z.object({ ok: z.boolean(), reason: text }),
  vrrp: z.array(instanceSchema).max(256),
  proxy: z.object({
    connections: z.number(),
    frontends: z.array(z.object({ name, status: name, scur: z.number() })).max(10_000),
    backends: z.array(z.object({ name, up: z.number(), servers: z.number(), stickEntries: z.number(), down: z.array(name).max(10_000) })).max(10_000),
  }),
  split: z.array(name).max(256).optional(),
});
export type PeerState = z.output<typeof peerStateSchema>;
export type PeerInstance = z.output<typeof instanceSchema>;

export const configSchema = z.object({
  hash: name,
  leaves: z.array(z.tuple([z.string().max(1024), z.string().max(64)])).max(200_000),
  truncated: z.boolean(),
});
export type ConfigMessage = z.output<typeof configSchema>;

export const resyncSchema = z.object({ phase: z.enum(["begin", "end"]), entries: z.number().int().min(0) });
export type ResyncMessage = z.output<typeof resyncSchema>;

export const requestSchema = z.object({ id: z.number().int(), op: z.enum(["validate", "reload"]) });
export type RequestMessage = z.output<typeof requestSchema>;

export const responseSchema = z.object({ id: z.number().int(), ok: z.boolean(), errors: z.array(text).max(1000), hash: name.optional() });
export type ResponseMessage = z.output<typeof responseSchema>;

export const certSchema = z.object({ name: z.string().regex(/^[\w.-]{1,128}$/), pem: z.string().max(256 * 1024) });
export type CertMessage = z.output<typeof certSchema>;

export const certsSchema = z.object({ certs: z.array(z.object({ name, notAfter: z.number() })).max(1000) });
export type CertsMessage = z.output<typeof certsSchema>;

const SCHEMAS = {
  [MSG.state]: peerStateSchema,
  [MSG.config]: configSchema,
  [MSG.resync]: resyncSchema,
  [MSG.request]: requestSchema,
  [MSG.response]: responseSchema,
  [MSG.cert]: certSchema,
  [MSG.certs]: certsSchema,
} as const;

type JsonType = keyof typeof SCHEMAS;

/** The JSON messages by type, as their schemas read them. */
export interface JsonMessages {
  [MSG.state]: PeerState;
  [MSG.config]: ConfigMessage;
  [MSG.resync]: ResyncMessage;
  [MSG.request]: RequestMessage;
  [MSG.response]: ResponseMessage;
  [MSG.cert]: CertMessage;
  [MSG.certs]: CertsMessage;
}

/** A plaintext record: the type byte, then the JSON text. */
export function encodeJson<T extends JsonType>(type: T, value: JsonMessages[T]): Buffer {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = type;
  body.copy(out, 1);
  return out;
}

/** A plaintext record of a binary message. */
export function encodeBinary(type: MessageType, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = type;
  out.set(body, 1);
  return out;
}

export type Decoded =
  | { [T in JsonType]: { type: T; value: JsonMessages[T] } }[JsonType]
  | { type: typeof MSG.sticks | typeof MSG.sticksAck; body: Buffer }
  /** A type this version does not know (a newer peer): ignored, not an error. */
  | { type: "unknown"; code: number };

/** Reads one plaintext record. Throws MessageError when a known message does not fit its schema. */
export function decodeMessage(plain: Buffer): Decoded {
  if (plain.length === 0) throw new MessageError("empty message");
  const type = plain[0];
  if (type === MSG.sticks || type === MSG.sticksAck) return { type, body: plain.subarray(1) };
  const schema = (SCHEMAS as Record<number, z.ZodType>)[type];
  if (!schema) return { type: "unknown", code: type };
  let json: unknown;
  try {
    json = JSON.parse(plain.subarray(1).toString("utf8"));
  } catch {
    throw new MessageError(`message type ${type} is not valid JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MessageError(`message type ${type} does not fit its schema: ${issue.path.join(".") || "(top)"}: ${issue.message}`);
  }
  return { type, value: r.data } as Decoded;
}
