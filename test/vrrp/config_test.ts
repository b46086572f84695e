// The vrrp section: the one-instance form and `instances:` with `sync_groups:`, and what --check
// reports across instances (VRIDs, sync group members, address families, proxies on the VIPs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../src/tandem_config.ts";
import { formatDiagnostic, type Located } from "../../src/config/diagnostics.ts";

const proxies = `
proxies:
  web:
    mode: tcp
    bind: "192.0.2.100:80"
    servers:
      a: { address: 127.0.0.1, port: 9000 }
`;

function load(text: string, role: "master" | "backup" = "master") {
  return loadConfigText(proxies + text, "t.yaml", role);
}

function problems(text: string, severity: "error" | "warning" = "error"): Located[] {
  return load(text).diagnostics.filter((d) => d.severity === severity);
}

const show = (ds: Located[]) => ds.map((d) => formatDiagnostic("t.yaml", d)).join("\n");

/** An instance under `instances:` (indented for it). */
const inst = (vrid: number, vip: string, extra = "", roles = "master: { priority: 100 }, backup: { priority: 50 }") => `
      interface: eth0
      virtual_router_id: ${vrid}
      virtual_ips: [${vip}]
${extra}      roles: { ${roles} }`;

test("the one-instance form resolves to one instance named VI_1 (or its name)", () => {
  const text = `
vrrp:
  interface: eth0
  virtual_router_id: 51
  virtual_ips: [192.0.2.100/24]
  roles: { master: { priority: 100 }, backup: { priority: 50 } }
`;
  const v = load(text).config!.vrrp!;
  assert.deepEqual(v.instances.map((i) => [i.name, i.family, i.version, i.priority]), [["VI_1", 4, 2, 100]]);
  assert.deepEqual(v.syncGroups, []);
  assert.equal(load(text.replace("vrrp:\n", "vrrp:\n  name: web_vip\n")).config!.vrrp!.instances[0].name, "web_vip");
});

test("instances by name with a sync group; active/active priorities per role", () => {
  const text = `
vrrp:
  instances:
    A:${inst(51, "192.0.2.100/24")}
    B:${inst(52, "192.0.2.101/24", "", "master: { priority: 50 }, backup: { priority: 100 }")}
  sync_groups:
    G: [A, B]
`;
  assert.equal(show(load(text).diagnostics), "");
  const m = load(text, "master").config!.vrrp!;
  const b = load(text, "backup").config!.vrrp!;
  assert.deepEqual(m.instances.map((i) => [i.name, i.vrid, i.priority, i.syncGroup]), [["A", 51, 100, "G"], ["B", 52, 50, "G"]]);
  assert.deepEqual(b.instances.map((i) => i.priority), [50, 100]);
  assert.deepEqual(m.syncGroups, [{ name: "G", instances: ["A", "B"], notify: { timeout: 10_000 } }]);
});

test("a sync group with notify scripts; unknown, repeated and shared members are errors; one member warns", () => {
  const base = `
vrrp:
  instances:
    A:${inst(51, "192.0.2.100/24")}
    B:${inst(52, "192.0.2.101/24")}
  sync_groups:
`;
  const g = load(`${base}    G: { instances: [A, B], notify: { master: "/bin/true master", timeout: 2s } }\n`).config!.vrrp!.syncGroups[0];
  assert.deepEqual(g, { name: "G", instances: ["A", "B"], notify: { master: "/bin/true master", timeout: 2000 } });
  const unknown = problems(`${base}    G: [A, Bb]\n`);
  assert.equal(unknown.length, 1, show(unknown));
  assert.equal(unknown[0].message, 'unknown instance "Bb" in sync group "G"');
  assert.equal(unknown[0].hint, 'did you mean "B"?');
  assert.deepEqual(problems(`${base}    G: [A, B]\n    H: [B, A]\n`).map((d) => d.message), [
    'instance "B" is already in sync group "G": an instance can be in one sync group only',
    'instance "A" is already in sync group "G": an instance can be in one sync group only',
  ]);
  assert.deepEqual(problems(`${base}    G: [A, A, B]\n`).map((d) => d.message), ['instance "A" is listed twice in sync group "G"']);
  assert.match(problems(`${base}    G: [A]\n`, "warning")[0].message, /sync group "G" has 1 member: nothing to keep in step/);
});

test("duplicate VRIDs on one interface and family are an error; IPv4 and IPv6 may share one", () => {
  const dup = problems(`
vrrp:
  instances:
    A:${inst(51, "192.0.2.100/24")}
    B:${inst(51, "192.0.2.101/24")}
`);
  assert.equal(dup.length, 1, show(dup));
  assert.match(dup[0].message, /^VRID 51 on "eth0" \(IPv4\) is already instance "A"'s/);
  assert.deepEqual(dup[0].path, ["vrrp", "instances", "B", "virtual_router_id"]);
  const ok = problems(`
vrrp:
  instances:
    A:${inst(51, "192.0.2.100/24")}
    A6:${inst(51, "2001:db8::100/64")}
`);
  assert.deepEqual(ok, []);
  const otherIf = problems(`
vrrp:
  instances:
    A:${inst(51, "192.0.2.100/24")}
    B:${inst(51, "192.0.2.101/24", "      interface: eth1\n").replace("      interface: eth0\n", "")}
`);
  assert.deepEqual(otherIf, []);
});

test("IPv6: version 3 by default, refused with version 2, never mixed with IPv4, peers of the same family", () => {
  const six = (extra = "", vips = "2001:db8::100/64") => `
vrrp:
  instances:
    V6:${inst(60, vips, extra)}
`;
  const v = load(six()).config!.vrrp!.instances[0];
  assert.deepEqual([v.family, v.version], [6, 3]);
  const v2 = problems(six("      version: 2\n      advert_interval: 1s\n"));
  assert.deepEqual(v2.map((d) => d.message), ["an IPv6 virtual IP needs VRRP version 3 (VRRPv2, RFC 3768, is IPv4 only)"]);
  const mixed = problems(six("", "2001:db8::100/64, 192.0.2.100/24"));
  assert.equal(mixed.length, 1, show(mixed));
  assert.match(mixed[0].message, /an IPv4 address in an IPv6 instance: one VRRP instance carries one address family \(RFC 5798 §5\.2\.9\)/);
  assert.deepEqual(mixed[0].path, ["vrrp", "instances", "V6", "virtual_ips", 1]);
  assert.match(mixed[0].hint!, /put the IPv4 virtual IPs in an instance of their own/);
  const peers = problems(six("      unicast_peers: [192.0.2.12]\n"));
  assert.deepEqual(peers.map((d) => d.message), ['"192.0.2.12" is not an IPv6 address']);
  assert.deepEqual(problems(six("      unicast_src: 2001:db8::11\n      unicast_peers: [2001:db8::12, fe80::2]\n")), []);
  const label = problems(six("", "{ address: 2001:db8::100/64, label: eth0:v6 }"));
  assert.deepEqual(label.map((d) => d.message), ["labels (aliases such as eth0:1) exist for IPv4 addresses only"]);
});

test("the master role holding the lower priority: a warning in the one-instance form only", () => {
  const single = `
vrrp:
  interface: eth0
  virtual_router_id: 51
  virtual_ips: [192.0.2.100/24]
  roles: { master: { priority: 50 }, backup: { priority: 100 } }
`;
  assert.match(problems(single, "warning")[0].message, /the master's priority 50 is not above the backup's 100/);
  const multi = `
vrrp:
  instances:
    B:${inst(52, "192.0.2.101/24", "", "master: { priority: 50 }, backup: { priority: 100 }")}
`;
  assert.deepEqual(problems(multi, "warning"), []);
});

test("track.proxy.proxies: bound follows the proxies listening on the instance's VIPs", () => {
  const bound = (vip: string) => `
vrrp:
  instances:
    A:${inst(51, vip, "      track: { proxy: { proxies: bound } }\n")}
`;
  assert.deepEqual(problems(bound("192.0.2.100/24")), []);
  assert.equal(load(bound("192.0.2.100/24")).config!.vrrp!.instances[0].track.proxy?.proxies, "bound");
  const none = problems(bound("192.0.2.101/24"));
  assert.deepEqual(none.map((d) => d.message), ['no proxy listens on a virtual IP of instance "A" (192.0.2.101)']);
  assert.deepEqual(none[0].path, ["vrrp", "instances", "A", "track", "proxy", "proxies"]);
});

test("the two forms do not mix; the one-instance form names what it lacks", () => {
  const d = problems(`
vrrp:
  interface: eth0
  instances:
    A:${inst(51, "192.0.2.100/24")}
`);
  assert.equal(d.length, 1, show(d));
  assert.equal(d[0].message, '"interface" belongs to an instance: with instances:, each instance is written in full under vrrp.instances.NAME');
  assert.equal(d[0].line, 10);
  const lacking = problems(`
vrrp:
  interface: eth0
  virtual_ips: [192.0.2.100/24]
`);
  assert.deepEqual(lacking.map((x) => x.message), ['missing required key "virtual_router_id"', 'missing required key "roles"']);
  assert.deepEqual(problems("\nvrrp:\n  instances: {}\n").map((x) => x.message), ["no instance: VRRP would float nothing"]);
});
