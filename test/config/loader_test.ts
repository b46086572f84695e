// Config loading: the seed file passes; each class of bad input gets its message and position.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigText } from "../../src/tandem_config.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";
import type { Located } from "../../src/config/diagnostics.ts";

const seed = readFileSync(new URL("../fixtures/exchange.yaml", import.meta.url), "utf8");

function problems(text: string, role: "master" | "backup" = "master"): Located[] {
  return loadConfigText(text, "t.yaml", role).diagnostics;
}

function only(text: string, severity: "error" | "warning" = "error"): Located {
  const list = problems(text).filter((d) => d.severity === severity);
  assert.equal(list.length, 1, `expected one ${severity}, got: ${list.map((d) => formatDiagnostic("t.yaml", d)).join("\n")}`);
  return list[0];
}

const minimal = (extra = "") => `
proxies:
  web:
    mode: tcp
    bind: "127.0.0.1:8080"
    servers:
      a: { address: 127.0.0.1, port: 9000 }
${extra}`;

test("the seed config is accepted as it stands, for both roles", () => {
  for (const role of ["master", "backup"] as const) {
    const r = loadConfigText(seed, "exchange.yaml", role);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
    assert.ok(r.config);
    assert.equal(r.config.role, role);
  }
  const m = loadConfigText(seed, "exchange.yaml", "master").config!;
  assert.equal(m.vrrp?.instances[0].priority, 100);
  assert.equal(loadConfigText(seed, "exchange.yaml", "backup").config!.vrrp?.instances[0].priority, 50);
  const fe = m.frontends[0];
  assert.equal(fe.name, "Exchange2010");
  assert.equal(fe.binds.reduce((n, b) => n + b.ports.length, 0), 15);
  assert.deepEqual(fe.binds[6].ports, [993, 994, 995]);
  const be = m.backends[0];
  assert.equal(be.servers[0].port, undefined, "no port: the client's port");
  assert.equal(be.servers[0].check?.port, 80);
  assert.equal(be.servers[0].check?.interval, 5000);
  assert.equal(be.stick?.size, 10240 * 1024);
  assert.equal(be.stick?.expire, 30 * 60_000);
  assert.equal(be.timeouts.connect, 4000);
  assert.equal(be.timeouts.client, 3_600_000);
  assert.equal(m.global.adminSocket?.mode, 0o600);
  assert.equal(m.alerts[0].schedule, "* * * * *");
  assert.equal(m.alerts[0].subject, "警告");
});

test("durations, sizes and addresses in every documented form", () => {
  const r = loadConfigText(minimal().replace('mode: tcp', 'mode: tcp\n    timeout: { connect: 1h30m, client: 250ms, server: "4000" }\n    stick: { on: src, size: 64k, expire: 1h }')
    .replace('bind: "127.0.0.1:8080"', 'bind: ["127.0.0.1:8080", ":8081", "127.0.0.1:8082,8083", "127.0.0.1:8090-8092", "[::1]:8080"]'), "t.yaml");
  assert.deepEqual(r.diagnostics, []);
  const fe = r.config!.frontends[0];
  assert.deepEqual(fe.binds.map((b) => [b.host, b.ports]), [["127.0.0.1", [8080]], ["0.0.0.0", [8081]], ["127.0.0.1", [8082, 8083]], ["127.0.0.1", [8090, 8091, 8092]], ["::1", [8080]]]);
  assert.equal(fe.timeouts.connect, 5_400_000);
  assert.equal(fe.timeouts.client, 250);
  assert.equal(fe.timeouts.server, 4000);
  assert.equal(r.config!.backends[0].stick?.size, 65536);
});

test("an unknown key names the key, its place and the closest known key", () => {
  const d = only(minimal().replace("mode: tcp", "mode: tcp\n    balanse: roundrobin"));
  assert.equal(d.message, 'unknown key "balanse"');
  assert.equal(d.hint, 'did you mean "balance"?');
  assert.equal(d.line, 5);
  assert.equal(d.col, 5);
  assert.equal(formatDiagnostic("t.yaml", d), [
    't.yaml:5:5: error: unknown key "balanse"',
    " 5 |     balanse: roundrobin",
    "   |     ^^^^^^^",
    '  hint: did you mean "balance"?',
  ].join("\n"));
});

test("wrong types and ranges state what is expected", () => {
  assert.equal(only(minimal("global: { maxconn: lots }")).message, "expected a whole number 1..10000000");
  assert.equal(only(minimal().replace("port: 9000", "port: 9000, weight: 300")).message, "must be a whole number 0..256");
  const mode = only(minimal().replace("mode: tcp", "mode: htp"));
  assert.equal(mode.message, '"htp" is not allowed here: expected one of tcp, http');
  assert.equal(mode.hint, 'did you mean "http"?');
  const dur = only(minimal().replace("mode: tcp", "mode: tcp\n    timeout: { connect: 4 sec }"));
  assert.equal(dur.message, '"4 sec" is not a duration');
  assert.equal(dur.col, 25);
});

test("bad binds and CIDRs say why", () => {
  assert.match(only(minimal().replace("127.0.0.1:8080", "127.0.0.1:99999")).message, /port 99999 is out of range \(must be 1\.\.65535\)/);
  assert.match(only(minimal().replace("127.0.0.1:8080", "::1:80")).message, /must be written in brackets/);
  assert.match(only(minimal().replace("127.0.0.1:8080", "127.0.0.1:90-80")).message, /runs backwards/);
});

test("a misspelt required key is reported once, as the unknown key", () => {
  const d = only(minimal().replace("{ address: 127.0.0.1, port: 9000 }", "{ adress: 127.0.0.1, port: 9000 }"));
  assert.equal(d.message, 'unknown key "adress"');
  assert.equal(d.hint, 'did you mean "address"?');
});

test("a server without an address is an error at the server", () => {
  const d = only(minimal().replace("{ address: 127.0.0.1, port: 9000 }", "{ port: 9000 }"));
  assert.equal(d.message, "every server needs an address");
  assert.equal(d.line, 7);
});

test("the same address and port bound twice across proxies", () => {
  const text = minimal() + `  other:
    mode: tcp
    bind: ["0.0.0.0:8080"]
    servers: { b: { address: 127.0.0.1 } }
`;
  const d = only(text.replace("proxies:\n", "proxies:\n"));
  assert.equal(d.message, '0.0.0.0:8080 is bound twice: by "other" and by "web"');
  assert.equal(d.line, 10);
});

const vrrp = (roles: string, extra = "") => minimal(`vrrp:
  interface: eth0
  virtual_router_id: 51
  virtual_ips: [192.0.2.10/24]
${extra}  roles:
${roles}`);

test("VRRP: VRID range, priority range, 255 only for an address owner", () => {
  assert.equal(only(vrrp("    master: { priority: 100 }\n    backup: { priority: 50 }").replace("virtual_router_id: 51", "virtual_router_id: 0")).message, "must be a whole number 1..255");
  const p = only(vrrp("    master: { priority: 255 }\n    backup: { priority: 50 }"));
  assert.match(p.message, /priority 255 is only for the address owner/);
  assert.equal(problems(vrrp("    master: { priority: 255, address_owner: true }\n    backup: { priority: 50 }")).filter((d) => d.severity === "error").length, 0);
});

test("VRRP: both roles must be defined; unknown roles suggest the right one", () => {
  const d = problems(vrrp("    master: { priority: 100 }\n    bakup: { priority: 50 }")).filter((x) => x.severity === "error");
  assert.deepEqual(d.map((x) => x.message).sort(), ['role "backup" is not defined', 'unknown role "bakup"']);
  assert.equal(d.find((x) => x.message.startsWith("unknown"))?.hint, 'did you mean "backup"?');
});

test("VRRP: role overrides are merged into the role's effective config", () => {
  const text = vrrp("    master: { priority: 100, unicast_src: 192.0.2.1, unicast_peers: [192.0.2.2] }\n    backup: { priority: 50, unicast_src: 192.0.2.2, unicast_peers: [192.0.2.1], preempt: false }");
  const m = loadConfigText(text, "t.yaml", "master").config!.vrrp!.instances[0];
  const b = loadConfigText(text, "t.yaml", "backup").config!.vrrp!.instances[0];
  assert.deepEqual([m.priority, m.unicastSrc, m.unicastPeers, m.preempt, m.initialState], [100, "192.0.2.1", ["192.0.2.2"], true, "master"]);
  assert.deepEqual([b.priority, b.unicastSrc, b.unicastPeers, b.preempt, b.initialState], [50, "192.0.2.2", ["192.0.2.1"], false, "backup"]);
});

test("VRRP: an empty unicast peer list is an error, never a silent multicast fallback", () => {
  const d = only(vrrp("    master: { priority: 100 }\n    backup: { priority: 50 }", "  unicast_peers: []\n"));
  assert.match(d.message, /unicast_peers is empty/);
});

test("VRRP: virtual IPs must be CIDRs", () => {
  const d = only(vrrp("    master: { priority: 100 }\n    backup: { priority: 50 }").replace("192.0.2.10/24", "192.0.2.300/24"));
  assert.match(d.message, /"192\.0\.2\.300" is not an IP address/);
});

test("the keepalived weight trap is a warning with the numbers", () => {
  const text = vrrp("    master: { priority: 100 }\n    backup: { priority: 50 }", "  track:\n    scripts:\n      chk_haproxy: { command: \"pidof tandem\", interval: 4s, weight: 2 }\n");
  const r = loadConfigText(text, "t.yaml", "master");
  assert.ok(r.config, "warnings do not fail");
  const w = only(text, "warning");
  assert.equal(w.message, 'weight 2 can never move the VIP: while script "chk_haproxy" fails on the master it has 100 and the backup 52; |weight| must exceed 100 − 50 = 50');
  assert.equal(w.line, 14);
  const neg = only(text.replace("weight: 2", "weight: -20"), "warning");
  assert.match(neg.message, /it has 80 and the backup 50/);
  assert.equal(problems(text.replace("weight: 2", "weight: 60")).length, 0);
  assert.equal(problems(text.replace("weight: 2", "weight: 0")).length, 0);
});

test("alerts: unknown notifier, cron syntax, time zone, exactly one of schedule/on", () => {
  const base = minimal(`notify:
  email: { smtp: { host: 127.0.0.1 }, from: a@example.com, to: b@example.com }
alerts:
`);
  const n = only(base + "  - { name: x, on: server_down, notify: emial }\n");
  assert.equal(n.message, 'unknown notifier "emial"');
  assert.equal(n.hint, 'did you mean "email"?');
  assert.match(only(base + '  - { name: x, schedule: "61 * * * *", check: { vip_held: 192.0.2.1 }, notify: email }\n').message, /Invalid value for minute: 61/);
  assert.match(only(base + '  - { name: x, schedule: "* * *", check: { vip_held: 192.0.2.1 }, notify: email }\n').message, /has 3 fields/);
  assert.match(only(base + '  - { name: x, schedule: "@every 30s", timezone: Mars/Base, check: { vip_held: 192.0.2.1 }, notify: email }\n').message, /not a time zone/);
  assert.match(only(base + "  - { name: x, notify: email }\n").message, /exactly one of schedule: or on:/);
  assert.equal(problems(base + '  - { name: x, schedule: "@every 30s", check: { command: "true" }, notify: email }\n').length, 0);
});

test("routing references: unknown backend and ACL, with suggestions", () => {
  const text = `
frontends:
  www:
    bind: ":8080"
    acls:
      is_api: { path_prefix: /api }
    use_backend:
      - { backend: apii, if: is_api }
      - { backend: api, if: "!is_apl" }
    default_backend: static
backends:
  api: { servers: { a: { address: 127.0.0.1, port: 9001 } } }
  static: { servers: { s: { address: 127.0.0.1, port: 9002 } } }
`;
  const d = problems(text).filter((x) => x.severity === "error");
  assert.deepEqual(d.map((x) => [x.message, x.hint]), [
    ['unknown backend "apii"', 'did you mean "api"?'],
    ['unknown ACL "is_apl"', 'did you mean "is_api"?'],
  ]);
});

test("an action written as a key, and/or for all/any: the hint says what to write", () => {
  const text = `
frontends:
  www:
    bind: ":8080"
    acls:
      admin: { host: admin.example.com }
      internal: { src: 10.0.0.0/8 }
    http_request:
      - { deny: { status: 403 } }
    use_backend:
      - { backend: web, if: { and: [admin, internal] } }
      - { backend: web, if: { or: [admin, internal] } }
    default_backend: web
backends:
  web: { servers: { a: { address: 127.0.0.1, port: 9001 } } }
`;
  const d = problems(text).filter((x) => x.severity === "error");
  assert.deepEqual(d.map((x) => [x.message, x.hint]), [
    ['"action" is missing: expected one of set_header, add_header, del_header, replace_header, deny, redirect, return, set_path, replace_path, allow, auth, tarpit, stats', 'write "action: deny" with the other keys beside it, not "deny:" as a key'],
    ['unknown key "and"', 'did you mean "all"? (every condition must hold)'],
    ['unknown key "or"', 'did you mean "any"? (one condition is enough)'],
  ]);
});

test("all problems of a file are reported in one run", () => {
  const text = `
global: { maxconn: lots }
proxies:
  a:
    bind: ":80"
    balanse: roundrobin
    servers: { s: { address: 127.0.0.1 } }
  b:
    bind: ":81"
    servers: { s: { adress: 127.0.0.1 } }
alerts:
  - { name: x, schedule: "61 * * * *", check: { vip_held: 192.0.2.1 }, notify: mail }
`;
  const d = problems(text);
  assert.deepEqual(d.map((x) => x.line), [2, 6, 10, 12, 12]);
});

test("YAML syntax errors and duplicate keys carry line and column", () => {
  const d = problems("proxies:\n  a: { bind: [\n");
  assert.equal(d[0].severity, "error");
  assert.match(d[0].message, /^YAML: /);
  const dup = problems("global:\n  maxconn: 1\n  maxconn: 2\n");
  assert.match(dup[0].message, /unique/);
  assert.equal(dup[0].line, 3);
});

test("an empty or non-mapping file is a clear error", () => {
  assert.match(problems("- a\n- b\n")[0].message, /must be a mapping of sections/);
  assert.equal(loadConfigText("", "t.yaml").diagnostics.length, 0);
});

test("relative paths are relative to the working directory, made absolute at load", () => {
  const r = loadConfigText(minimal("global: { state_dir: state, pidfile: run/t.pid, admin_socket: t.sock }"), "/etc/tandem/t.yaml");
  assert.equal(r.config!.global.stateDir, join(process.cwd(), "state"));
  assert.equal(r.config!.global.pidfile, join(process.cwd(), "run/t.pid"));
  assert.equal(r.config!.global.adminSocket?.path, join(process.cwd(), "t.sock"));
  assert.equal(loadConfigText(minimal("global: { state_dir: /var/lib/x }"), "/etc/tandem/t.yaml").config!.global.stateDir, "/var/lib/x");
});

test("the configs shipped in docs/examples are valid, without warnings", () => {
  for (const name of ["demo.yaml", "pair.yaml"]) {
    const url = new URL(`../../docs/examples/${name}`, import.meta.url);
    for (const role of ["master", "backup"] as const) {
      const r = loadConfigText(readFileSync(url, "utf8"), name, role);
      assert.deepEqual(r.diagnostics.map((d) => formatDiagnostic(name, d)), [], name);
    }
  }
});

test("HTTP-only keys on a tcp frontend are refused, never silently ignored", () => {
  const d = only(minimal().replace("mode: tcp", "mode: tcp\n    forwardfor: true"));
  assert.equal(d.message, 'forwardfor needs mode http; "web" is mode tcp');
});

test("vrrp track.proxy.min_servers: a number or per backend; unknown backends are reported", () => {
  const yaml = (min: string) => `frontends:\n  web:\n    bind: 127.0.0.1:8080\n    default_backend: db\nbackends:\n  db:\n    servers: { a: { address: 127.0.0.1, port: 9000 } }\nvrrp:\n  interface: lo\n  virtual_router_id: 9\n  virtual_ips: [192.0.2.9/24]\n  track:\n    proxy: { weight: 0, min_servers: ${min} }\n  roles: { master: { priority: 100 }, backup: { priority: 50 } }\n`;
  assert.equal(loadConfigText(yaml("0"), "t.yaml", "master").config!.vrrp!.instances[0].track.proxy!.minServers, 0);
  assert.deepEqual(loadConfigText(yaml("{ db: 2 }"), "t.yaml", "master").config!.vrrp!.instances[0].track.proxy!.minServers, { db: 2 });
  const bad = loadConfigText(yaml("{ dbx: 1 }"), "t.yaml", "master");
  assert.match(bad.diagnostics.map((d) => `${d.message} ${d.hint ?? ""}`).join("\n"), /unknown backend "dbx".*did you mean "db"/);
});
