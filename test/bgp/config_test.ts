// The bgp: section through the real loader: defaults, what is derived, and each mistake with its
// place and hint.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../src/tandem_config.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";
import type { Located } from "../../src/config/diagnostics.ts";
import { communityText, parseCommunity, withProxies } from "../../src/bgp/config.ts";
import { COMMUNITY } from "../../src/bgp/update.ts";
import { resolveRole } from "../../src/cli/role.ts";
import { summarize } from "../../src/cli/summary.ts";

const proxies = `
proxies:
  web:
    mode: tcp
    bind: "203.0.113.10:80"
    servers: { a: { address: 127.0.0.1, port: 9000 } }
frontends:
  front6:
    bind: "[2001:db8::10]:443"
    default_backend: pool
backends:
  pool:
    servers: { b: { address: 127.0.0.1, port: 9001 } }
`;

const load = (bgp: string, extra = "") => loadConfigText(`${proxies}${extra}bgp:\n${bgp}`, "t.yaml");

function errors(bgp: string, extra = ""): Located[] {
  return load(bgp, extra).diagnostics.filter((d) => d.severity === "error");
}

function only(bgp: string, severity: "error" | "warning" = "error", extra = ""): Located {
  const list = load(bgp, extra).diagnostics.filter((d) => d.severity === severity);
  assert.equal(list.length, 1, `expected one ${severity}, got:\n${list.map((d) => formatDiagnostic("t.yaml", d)).join("\n")}`);
  return list[0];
}

const base = `  local_as: 65001
  peers: [{ address: 192.0.2.1, as: 65000 }]
  announce: [203.0.113.10/32]
`;

test("a minimal section resolves with its defaults", () => {
  const r = load(base);
  assert.deepEqual(r.diagnostics, []);
  const b = r.config!.bgp!;
  assert.deepEqual(b.peers, [{ name: "192.0.2.1", address: "192.0.2.1", family: 4, port: 179, as: 65000, password: undefined, holdTime: 3, ttl: 1 }]);
  assert.deepEqual(b.announce, [{ prefix: { address: "203.0.113.10", prefix: 32, family: 4 }, proxies: undefined }]);
  assert.deepEqual(withProxies(b, r.config!).announce[0].proxies, ["web"], "the frontends bound to the address, found at run time");
  assert.equal(b.routerId, undefined);
  assert.equal(b.localPref, 100);
  assert.equal(b.interface, "lo");
  assert.equal(b.announceDelay, 2000);
  assert.equal(b.withdrawWait, 2000);
  assert.equal(b.gracefulShutdown, 0);
});

test("every key: peers with port, password, hold time, multihop; communities; IPv6 through a frontend and its backend", () => {
  const r = load(`  local_as: "1.10"
  router_id: 192.0.2.11
  hold_time: 9s
  med: 50
  local_pref: 200
  communities: ["65001:100", no-export, "4200000000:1:2"]
  interface: dummy0
  announce_delay: 5s
  withdraw_wait: 3s
  graceful_shutdown: 1s
  peers:
    - { address: 192.0.2.1, as: 65000, password: secret, hold_time: 30s }
    - { address: 198.51.100.1, as: 65000, port: 1179, multihop: 3 }
    - { address: "2001:db8:1::1", as: 65546, multihop: true }
  announce:
    - 203.0.113.10/32
    - { address: "2001:db8::10/128" }
`);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  const b = r.config!.bgp!;
  assert.equal(b.localAs, 65546);
  assert.equal(b.med, 50);
  assert.equal(b.localPref, 200);
  assert.deepEqual(b.communities, [65001 * 65536 + 100, COMMUNITY.NO_EXPORT]);
  assert.deepEqual(b.largeCommunities, [[4200000000, 1, 2]]);
  assert.deepEqual(b.peers.map((p) => [p.name, p.holdTime, p.ttl, p.password]), [
    ["192.0.2.1", 30, 1, "secret"],
    ["198.51.100.1:1179", 9, 3, undefined],
    ["2001:db8:1::1", 9, 255, undefined],
  ]);
  assert.deepEqual(withProxies(b, r.config!).announce[1].proxies, ["front6", "pool"]);
  assert.deepEqual([b.interface, b.announceDelay, b.withdrawWait, b.gracefulShutdown], ["dummy0", 5000, 3000, 1000]);
});

test("a wildcard bind serves the address; explicit proxies replace the derived ones", () => {
  const r = loadConfigText(`
proxies:
  any: { bind: ":80", servers: { a: { address: 127.0.0.1, port: 9000 } } }
  other: { bind: "127.0.0.1:81", servers: { a: { address: 127.0.0.1, port: 9000 } } }
bgp:
  local_as: 65001
  peers: [{ address: 192.0.2.1, as: 65000 }]
  announce: [203.0.113.10/32, { address: 203.0.113.11/32, proxies: [other] }]
`, "t.yaml");
  assert.deepEqual(withProxies(r.config!.bgp!, r.config!).announce.map((a) => a.proxies), [["any"], ["other"]]);
});

test("AS numbers: out of range, AS_TRANS, bad asdot", () => {
  assert.match(only(base.replace("65001", "0")).message, /1\.\.4294967295/);
  const t = only(base.replace("65001", "23456"));
  assert.match(t.message, /AS_TRANS/);
  assert.deepEqual(t.path, ["bgp", "local_as"]);
  assert.match(only(base.replace("65001", '"1.70000"')).message, /not an AS number/);
  assert.match(only(base.replace("as: 65000", "as: 23456")).message, /AS_TRANS/);
});

test("hold time: whole seconds, 0 or 3..65535", () => {
  for (const bad of ["2s", "1500ms", "70000s"]) {
    const d = only(`${base}  hold_time: ${bad}\n`);
    assert.match(d.message, /0 or 3s\.\.65535s \(RFC 4271 §4\.2\)/);
    assert.deepEqual(d.path, ["bgp", "hold_time"]);
  }
  assert.deepEqual(errors(`${base}  hold_time: 0s\n`), []);
});

test("peers: none, not an address, twice, password too long or empty", () => {
  assert.match(only(base.replace("[{ address: 192.0.2.1, as: 65000 }]", "[]") + "  router_id: 192.0.2.11\n").message, /no peer/);
  const notIp = only(base.replace("192.0.2.1,", "router1,"));
  assert.match(notIp.message, /"router1" is not an IP address/);
  assert.deepEqual(notIp.path, ["bgp", "peers", 0, "address"]);
  assert.match(only(base.replace("[{ address: 192.0.2.1, as: 65000 }]", "[{ address: 192.0.2.1, as: 65000 }, { address: 192.0.2.1, as: 65002 }]")).message, /listed twice/);
  assert.match(only(base.replace("as: 65000 }", `as: 65000, password: "${"x".repeat(81)}" }`)).message, /longer than 80 bytes/);
  assert.match(only(base.replace("as: 65000 }", `as: 65000, password: "" }`)).message, /empty password/);
});

test("router_id: must be a non-zero IPv4 address; needed when no peer is IPv4", () => {
  assert.match(only(`${base}  router_id: 2001:db8::1\n`).message, /not a router ID/);
  assert.match(only(`${base}  router_id: 0.0.0.0\n`).message, /not a router ID/);
  const v6 = base.replace("192.0.2.1", '"2001:db8:1::1"').replace("203.0.113.10/32", '"2001:db8::10/128"');
  assert.match(only(v6).message, /router_id is needed/);
  assert.deepEqual(errors(`${v6}  router_id: 192.0.2.11\n`), []);
});

test("announce: a host route only, once, served by a proxy that exists", () => {
  const wide = only(base.replace("203.0.113.10/32", "203.0.113.10/24"));
  assert.match(wide.message, /one host route each/);
  assert.equal(wide.hint, "write 203.0.113.10/32");
  assert.match(only(base.replace("[203.0.113.10/32]", "[203.0.113.10/32, 203.0.113.10]")).message, /announced twice/);
  const nothing = only(base.replace("203.0.113.10/32", "203.0.113.99/32"));
  assert.match(nothing.message, /nothing listens on 203\.0\.113\.99/);
  const unknown = only(base.replace("[203.0.113.10/32]", "[{ address: 203.0.113.10/32, proxies: [wbe] }]"));
  assert.match(unknown.message, /unknown proxy "wbe"/);
  assert.match(unknown.hint ?? "", /did you mean "web"/);
  assert.deepEqual(unknown.path, ["bgp", "announce", 0, "proxies", 0]);
});

test("warnings: an address no peer can carry; waits that eat the grace period", () => {
  const w = only(base.replace("[203.0.113.10/32]", '[203.0.113.10/32, "2001:db8::10/128"]'), "warning");
  assert.match(w.message, /no IPv6 peer/);
  const g = only(`${base}  withdraw_wait: 8s\n  graceful_shutdown: 3s\n`, "warning");
  assert.match(g.message, /leave nothing of global\.grace_period/);
});

test("communities: standard, large and well-known; bad ones name the rule", () => {
  assert.deepEqual(parseCommunity("65000:100"), { standard: 65000 * 65536 + 100 });
  assert.deepEqual(parseCommunity("no_export"), { standard: COMMUNITY.NO_EXPORT });
  assert.deepEqual(parseCommunity("1:2:3"), { large: [1, 2, 3] });
  assert.throws(() => parseCommunity("70000:1"), /0\.\.65535/);
  assert.throws(() => parseCommunity("a:b"), /not a community/);
  assert.equal(communityText(COMMUNITY.GRACEFUL_SHUTDOWN), "graceful-shutdown");
  assert.equal(communityText(65000 * 65536 + 7), "65000:7");
  const d = only(`${base}  communities: ["65000:70000"]\n`);
  assert.deepEqual(d.path, ["bgp", "communities", 0]);
});

test("unknown keys are reported with a suggestion", () => {
  const d = only(`${base}  hold_tiem: 3s\n`);
  assert.match(d.message, /unknown key "hold_tiem"/);
});

test("--role: optional without a vrrp section (master), required with one", () => {
  assert.equal(resolveRole(undefined, ["master", "backup"], true), "master");
  assert.equal(resolveRole("BACKUP", ["master", "backup"], true), "backup");
  assert.throws(() => resolveRole(undefined, ["master", "backup"], false), /missing --role/);
});

test("--check's summary lists the peers, what is announced while which proxies are healthy, and the stop sequence", () => {
  const r = load(base.replace("as: 65000 }", 'as: 65000, password: "x" }') + "  graceful_shutdown: 1s\n");
  const text = summarize(r.config!, 0);
  assert.match(text, /^bgp: AS 65001, router ID \(the address toward 192\.0\.2\.1\), addresses added to lo while announced$/m);
  assert.match(text, /^ {2}peer 192\.0\.2\.1 AS 65000 \(eBGP, hold 3s, TTL 1, TCP MD5\)$/m);
  assert.match(text, /^ {2}announce 203\.0\.113\.10\/32 while web healthy$/m);
  assert.match(text, /^ {2}start: announce after 2s; stop: graceful-shutdown community for 1s, withdraw, serve 2s more$/m);
});
