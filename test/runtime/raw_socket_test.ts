// The raw IPv4 socket over the libc seam, on loopback with protocol 253 (RFC 3692: experiments).
// Runs on Node (node:ffi + uv_poll) and on Deno (Deno.dlopen + poll): `deno test` runs this folder.

import { test } from "node:test";
import assert from "node:assert/strict";
import { openRawSocket, sockaddrIn, type RawSocket } from "../../src/runtime/raw_socket.ts";
import { SyscallError } from "../../src/runtime/libc.ts";

const PROTO = 253;
const isRoot = () => process.getuid?.() === 0;
const ci = !["", "false", "0"].includes(process.env.CI ?? "");
// Raw sockets need CAP_NET_RAW: under CI a missing root fails instead of skipping.
const skip = !isRoot() && !ci && "raw sockets need root (CAP_NET_RAW)";

/** A minimal IPv4 header + payload, as IP_HDRINCL wants it (the kernel fills checksum and id). */
function ipPacket(src: string, dst: string, ttl: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  p[8] = ttl;
  p[9] = PROTO;
  p.set(src.split(".").map(Number), 12);
  p.set(dst.split(".").map(Number), 16);
  p.set(payload, 20);
  return p;
}

/** Collects what `sock` receives whose payload starts with `tag` (other tests' packets are ignored). */
function collect(sock: RawSocket, tag: string): Uint8Array[] {
  const got: Uint8Array[] = [];
  const bytes = new TextEncoder().encode(tag);
  sock.onMessage((p) => {
    const hl = (p[0] & 0x0f) * 4;
    if (bytes.every((b, i) => p[hl + i] === b)) got.push(p);
  });
  return got;
}

async function until(fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

test("sockaddr_in: family, address; anything but a dotted quad is a TypeError", () => {
  assert.deepEqual([...sockaddrIn("224.0.0.18")], [2, 0, 0, 0, 224, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0]);
  for (const bad of ["", "1.2.3", "1.2.3.256", "::1", "a.b.c.d"]) assert.throws(() => sockaddrIn(bad), TypeError);
});

test("a packet sent with the kernel's header arrives whole, header included", { skip }, async () => {
  const a = openRawSocket(PROTO);
  const b = openRawSocket(PROTO);
  try {
    const tag = `plain-${Math.random()}`;
    const got = collect(b, tag);
    a.send(new TextEncoder().encode(tag), "127.0.0.1");
    await until(() => got.length > 0);
    assert.equal(got.length, 1);
    const p = got[0];
    assert.equal(p[0] >> 4, 4);
    assert.equal(p[9], PROTO);
    assert.deepEqual([...p.subarray(12, 16)], [127, 0, 0, 1]);
    assert.equal(new TextDecoder().decode(p.subarray((p[0] & 0x0f) * 4)), tag);
  } finally {
    a.close();
    b.close();
  }
});

test("IP_HDRINCL: our own header goes out as written (TTL 255); a burst arrives complete and in order", { skip }, async () => {
  const a = openRawSocket(PROTO);
  const b = openRawSocket(PROTO);
  try {
    a.setOption(0, 3, 1); // IPPROTO_IP, IP_HDRINCL
    const tag = `hdrincl-${Math.random()}-`;
    const got = collect(b, tag);
    for (let i = 0; i < 200; i++) a.send(ipPacket("127.0.0.1", "127.0.0.1", 255, new TextEncoder().encode(tag + i)), "127.0.0.1");
    await until(() => got.length >= 200);
    assert.equal(got.length, 200);
    assert.ok(got.every((p) => p[8] === 255));
    assert.deepEqual(got.map((p) => new TextDecoder().decode(p.subarray(20)).slice(tag.length)), Array.from({ length: 200 }, (_, i) => String(i)));
  } finally {
    a.close();
    b.close();
  }
});

test("errors: a refused option is a SyscallError with its errno; send after close throws; close twice is fine", { skip }, () => {
  const a = openRawSocket(PROTO);
  const err = (() => {
    try {
      a.setOption(1, 25, new TextEncoder().encode("no-such-device0\0")); // SO_BINDTODEVICE
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof SyscallError, String(err));
  assert.equal(err.errno, 19); // ENODEV
  assert.match(err.message, /ENODEV/);
  assert.throws(() => a.send(new Uint8Array(1), "not-an-address"), TypeError);
  a.close();
  a.close();
  assert.throws(() => a.send(new Uint8Array(1), "127.0.0.1"), SyscallError);
});

test("no root: opening is a SyscallError (EPERM), never a crash", { skip: isRoot() && "running as root" }, () => {
  assert.throws(() => openRawSocket(PROTO), (e: unknown) => e instanceof SyscallError && e.errno === 1);
});
