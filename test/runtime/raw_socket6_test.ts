// The raw IPv6 socket's C layouts (sockaddr_in6, ipv6_mreq, recvmsg ancillary data) and, as root,
// a packet sent to ff02::12 on a veth pair received with its source, destination and hop limit.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { ipv6Mreq, parseControl, sockaddrIn6 } from "../../src/runtime/raw_socket6.ts";

test("sockaddr_in6 and ipv6_mreq layouts", () => {
  const a = sockaddrIn6("fe80::1", 7);
  assert.equal(a.length, 28);
  assert.deepEqual([a[0], a[1]], [10, 0]);
  assert.equal(Buffer.from(a.subarray(8, 24)).toString("hex"), "fe800000000000000000000000000001");
  assert.equal(new DataView(a.buffer).getUint32(24, true), 7);
  const m = ipv6Mreq("ff02::12", 3);
  assert.equal(Buffer.from(m).toString("hex"), "ff020000000000000000000000000012" + "03000000");
  assert.throws(() => sockaddrIn6("192.0.2.1", 1), /not an IPv6 address/);
});

test("ancillary data: IPV6_PKTINFO and IPV6_HOPLIMIT, 8-byte aligned; a short or broken header ends the walk", () => {
  const c = new Uint8Array(96);
  const v = new DataView(c.buffer);
  // cmsghdr { len 36, IPPROTO_IPV6 41, IPV6_PKTINFO 50 } + in6_pktinfo { ff02::12, ifindex 2 }, padded to 40.
  v.setBigUint64(0, 36n, true);
  v.setInt32(8, 41, true);
  v.setInt32(12, 50, true);
  c.set(Buffer.from("ff020000000000000000000000000012", "hex"), 16);
  v.setUint32(32, 2, true);
  // cmsghdr { len 20, 41, IPV6_HOPLIMIT 52 } + int 255.
  v.setBigUint64(40, 20n, true);
  v.setInt32(48, 41, true);
  v.setInt32(52, 52, true);
  v.setInt32(56, 255, true);
  assert.deepEqual(parseControl(c.subarray(0, 64)), { dst: "ff02::12", ifindex: 2, hopLimit: 255 });
  assert.deepEqual(parseControl(c.subarray(0, 40)), { dst: "ff02::12", ifindex: 2 });
  v.setBigUint64(0, 1000n, true);
  assert.deepEqual(parseControl(c.subarray(0, 64)), {});
});

const root = process.getuid?.() === 0;
const ci = !["", "false", "0"].includes(process.env.CI ?? "");
// Under CI a missing root fails instead of skipping.
const skip = !root && !ci && "needs root for namespaces";

test("as root: ff02::12 from one namespace to another arrives with source, destination and hop limit 255", { skip }, async () => {
  const id = `rs6${process.pid}x${Math.floor(Math.random() * 1e4)}`;
  const ip = (...a: string[]) => execFileSync("ip", a);
  ip("netns", "add", `${id}a`);
  ip("netns", "add", `${id}b`);
  try {
    ip("link", "add", "va", "netns", `${id}a`, "type", "veth", "peer", "name", "vb", "netns", `${id}b`);
    for (const [n, dev] of [["a", "va"], ["b", "vb"]]) {
      execFileSync("ip", ["netns", "exec", `${id}${n}`, "sysctl", "-qw", `net.ipv6.conf.${dev}.accept_dad=0`]);
      ip("-n", `${id}${n}`, "link", "set", dev, "up");
    }
    // The link-local addresses (the senders' source) appear a moment after the links come up.
    const linkLocal = (n: string, dev: string) => execFileSync("ip", ["-n", `${id}${n}`, "-6", "-o", "addr", "show", "dev", dev, "scope", "link"], { encoding: "utf8" }).includes("fe80::");
    for (let i = 0; i < 200 && !(linkLocal("a", "va") && linkLocal("b", "vb")); i++) await new Promise((r) => setTimeout(r, 25));
    const node = new URL("../../node_modules/.bin/node", import.meta.url).pathname;
    const script = new URL("./raw_socket6_child.ts", import.meta.url).pathname;
    const { spawn } = await import("node:child_process");
    const rx = spawn("ip", ["netns", "exec", `${id}b`, node, script, "recv", "vb"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    rx.stdout.on("data", (b) => (out += b));
    for (let i = 0; i < 200 && !out.startsWith("ready\n"); i++) await new Promise((r) => setTimeout(r, 25));
    execFileSync("ip", ["netns", "exec", `${id}a`, node, script, "send", "va"]);
    await new Promise((r) => rx.on("exit", r));
    const got = JSON.parse(out.trim().split("\n")[1]) as { payload: string; src: string; dst: string; hopLimit: number };
    assert.equal(got.payload, "0102030405060708");
    assert.match(got.src, /^fe80::/);
    assert.equal(got.dst, "ff02::12");
    assert.equal(got.hopLimit, 255);
  } finally {
    for (const n of ["a", "b"]) {
      try {
        ip("netns", "del", `${id}${n}`);
      } catch { /* gone */ }
    }
  }
});
