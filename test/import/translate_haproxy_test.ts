// haproxy.cfg → tandem sections: binds, servers, timeouts, defaults inheritance, routing, reports.

import { test } from "node:test";
import assert from "node:assert/strict";
import { importConfigs } from "../../src/import/import_configs.ts";
import { formatNote } from "../../src/import/notes.ts";
import { loadConfigText } from "../../src/tandem_config.ts";

function imp(text: string) {
  const r = importConfigs({ haproxy: { path: "h.cfg", text }, read: () => undefined });
  const load = loadConfigText(r.yaml, "t.yaml", "master");
  return { ...r, load, stderr: r.notes.filter((n) => n.kind !== "info").map(formatNote) };
}
type Obj = Record<string, Record<string, Record<string, unknown>>>;

test("bind lists and ranges group by address; the listen line's address comes first", () => {
  const r = imp(`listen x 10.0.0.1:80
  bind 10.0.0.1:110,10.0.0.1:135
  bind 10.0.0.1:6001-6004,10.0.0.2:25
  bind :8080,*:8081
  bind :::8443
  server a 10.0.0.9
`);
  assert.deepEqual((r.data as Obj).proxies.x.bind, ["10.0.0.1:80", "10.0.0.1:110,135", "10.0.0.1:6001-6004", "10.0.0.2:25", ":8080,8081", "[::]:8443"]);
  assert.ok(r.load.config, JSON.stringify(r.load.diagnostics));
});

test("server keywords, default-server, and check settings without check", () => {
  const r = imp(`defaults
  mode tcp
  default-server inter 3s rise 4
backend b
  server s1 10.0.0.1:8080 check port 81 addr 10.0.0.100 fall 5 weight 7 maxconn 30 backup send-proxy-v2
  server s2 10.0.0.2 disabled send-proxy
  server s3 10.0.0.3:80 inter 500 fall 2
  server s4 [2001:db8::4]:80 check no-check
  server s5 /var/run/app.sock
`);
  const s = (r.data as Obj).backends.b.servers as Record<string, unknown>;
  assert.deepEqual(s.s1, { address: "10.0.0.1", port: 8080, weight: 7, maxconn: 30, backup: true, send_proxy: "v2", check: { interval: "3s", rise: 4, port: 81, address: "10.0.0.100", fall: 5 } });
  assert.deepEqual(s.s2, { address: "10.0.0.2", disabled: true, send_proxy: true });
  assert.deepEqual(s.s3, { address: "10.0.0.3", port: 80 });
  assert.deepEqual(s.s4, { address: "2001:db8::4", port: 80 });
  assert.equal(s.s5, undefined);
  assert.deepEqual(r.stderr, [
    "h.cfg:7: not translated: server s3 inter 500 fall 2: without `check` haproxy runs no health check, so these settings did nothing",
    // The backend serves no frontend, so its lost server is no refusal.
    'h.cfg:9: not translated: server s5 /var/run/app.sock: unix sockets are not supported: tandem listens and connects on TCP/IP only; backend "b" is not used by any frontend, so nothing is lost',
  ]);
  assert.ok(r.load.config);
});

test("timeouts with and without units, and haproxy 1.x names", () => {
  const r = imp(`defaults
  mode http
  timeout connect 4000
  timeout client 30s
  srvtimeout 1m
  timeout http-request 10s
  timeout tarpit 5s
  timeout server 12x
`);
  assert.deepEqual((r.data as Obj).defaults.timeout, { connect: 4000, client: "30s", server: "1m", http_request: "10s", tarpit: "5s" });
  assert.deepEqual(r.stderr, [
    'h.cfg:8: not translated: timeout server 12x: "12x" is not a time (a number of milliseconds, or with us/ms/s/m/h/d)',
  ]);
});

test("haproxy's default mode tcp is written out; tandem's default is http", () => {
  const r = imp("listen x\n  bind :2525\n  server a 10.0.0.1:25\n");
  assert.equal((r.data as Obj).defaults.mode, "tcp");
  assert.equal(r.load.config!.frontends[0].mode, "tcp");
});

test("a proxy under a second defaults section gets what differs written in", () => {
  const r = imp(`defaults
  mode http
  timeout client 30s
  option redispatch
listen a
  bind :80
  server s 10.0.0.1:80
defaults
  mode tcp
  timeout client 1h
listen b
  bind :25
  server s 10.0.0.1:25
`);
  const d = r.data as Obj;
  assert.deepEqual(d.defaults, { mode: "http", timeout: { client: "30s" }, redispatch: true });
  assert.deepEqual(d.proxies.a.mode, undefined);
  assert.equal(d.proxies.b.mode, "tcp");
  assert.deepEqual(d.proxies.b.timeout, { client: "1h" });
  assert.equal(d.proxies.b.redispatch, false);
  const b = r.load.config!.backends.find((x) => x.name === "b")!;
  assert.equal(b.redispatch, false);
  assert.equal(b.timeouts.client, 3_600_000);
});

test("routing: unconditional use_backend becomes default_backend; unknown backends are reported", () => {
  const r = imp(`defaults
  mode http
frontend f
  bind :80
  acl api path_beg /api
  use_backend api if api
  use_backend gone if api
  use_backend web
backend api
  server a 10.0.0.1:80
backend web
  server w 10.0.0.2:80
`);
  const f = (r.data as Obj).frontends.f;
  assert.deepEqual(f.use_backend, [{ backend: "api", if: "api" }]);
  assert.equal(f.default_backend, "web");
  assert.deepEqual(r.stderr, ['h.cfg:7: refused: use_backend gone: backend "gone" is not in the output (requests would go elsewhere)']);
  assert.ok(r.load.config);
});

test("a listen without servers that routes is a frontend; one that only serves stats is stats:", () => {
  const r = imp(`defaults
  mode http
listen front
  bind :80
  default_backend app
backend app
  server a 10.0.0.1:80
listen stats
  bind 127.0.0.1:9000
  stats enable
  stats auth admin:pw
  stats realm Private
`);
  const d = r.data as Obj;
  assert.deepEqual(Object.keys(d.frontends), ["front"]);
  assert.deepEqual(d.stats, { bind: "127.0.0.1:9000", uri: "/haproxy?stats", auth: { user: "admin", password: "pw" } });
  assert.deepEqual(r.stderr, ["h.cfg:12: not translated: stats realm Private: tandem's stats page is not configurable that way"]);
});

test("header rules, legacy reqadd/rspidel, and rules that cannot carry over", () => {
  const r = imp(`defaults
  mode http
frontend f
  bind :80
  acl office src 192.0.2.0/24
  http-request set-header X-Proto http if !office
  http-request replace-header Host (.*):80 \\1
  http-request set-header X-IP %[src]
  http-request tarpit if office
  reqadd X-Old:\\ yes
  rspidel ^Server:
  http-response set-status 503 reason "Go away" if office
  default_backend b
backend b
  http-request set-header X-B 1
  server s 10.0.0.1:80
`);
  const f = (r.data as Obj).frontends.f;
  assert.deepEqual(f.http_request, [
    { action: "set_header", name: "X-Proto", value: "http", if: "!office" },
    // haproxy replaces the whole value when the regex matches anywhere in it.
    { action: "replace_header", name: "Host", match: "^[\\s\\S]*?(?:(.*):80)[\\s\\S]*$", replace: "$1" },
    { action: "set_header", name: "X-IP", value: "%[src]" },
    { action: "tarpit", if: "office" },
    { action: "add_header", name: "X-Old", value: "yes" },
  ]);
  assert.deepEqual(f.http_response, [{ action: "del_header", name: "Server" }, { action: "set_status", status: 503, reason: "Go away", if: "office" }]);
  assert.deepEqual((r.data as Obj).backends.b.http_request, [{ action: "set_header", name: "X-B", value: "1" }]);
  assert.deepEqual(r.stderr, []);
  assert.ok(r.load.config);
});

test("other sections and global directives are reported with their line", () => {
  const r = imp(`global
  daemon
  nbthread 2
  tune.bufsize 32768
userlist admins
  user a password x
resolvers dns
  nameserver a 10.0.0.53:53
`);
  assert.deepEqual((r.data as Obj).global, { workers: 2 });
  assert.deepEqual(r.stderr.map((l) => l.split(": ").slice(0, 3).join(": ")), [
    "h.cfg:2: not translated: daemon",
    "h.cfg:4: not translated: tune.bufsize 32768",
    // "x" is no crypt(3) hash tandem can check: the user could not log in.
    "h.cfg:6: refused: user a password x",
    "h.cfg:7: not translated: resolvers dns",
  ]);
});
