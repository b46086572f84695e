// Routing tables: conditions, http_request/http_response rules, forwarded headers, `tandem route`.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runRoute } from "../../../src/cli/route.ts";
import { loadConfigText } from "../../../src/tandem_config.ts";
import type { TandemConfig } from "../../../src/tandem_config.ts";
import { addForwarded, addVia, stripHopByHop, upgradeAccepted, upgradeRequested } from "../../../src/proxy/http/forward_headers.ts";
import type { HttpMessage } from "../../../src/proxy/http/message.ts";
import { HeadParser, parseResponse } from "../../../src/proxy/http/parser.ts";
import { checkHttpConfig, compileBackend, compileFrontend, route } from "../../../src/proxy/http/routing.ts";
import { envFor } from "../../helpers/request_env.ts";
import { applyRules } from "../../../src/proxy/http/rules.ts";

const YAML = `
frontends:
  web:
    bind: 127.0.0.1:8080
    acls:
      is_api: { path_prefix: /api/ }
      is_admin_net: { src: [10.0.0.0/8, "2001:db8::/32"] }
      is_static: { path_regex: "\\\\.(css|js|png)$" }
      has_token: { header: x-token, regex: "^[a-f0-9]{8}$" }
      beta: { query: beta, equals: "1" }
    use_backend:
      - { backend: api, if: { all: [is_api, { method: [GET, HEAD] }] } }
      - { backend: api_write, if: is_api }
      - { backend: admin, if: { all: [{ host: admin.example }, is_admin_net] } }
      - { backend: static, if: { any: [is_static, { host: "*.cdn.example" }] } }
      - { backend: beta, if: { any: [beta, has_token] } }
      - { backend: mobile, if: { header: user-agent, equals: "App/1" } }
      - { backend: legacy, if: { path: [/old, /older] } }
    default_backend: www
    http_request:
      - { action: deny, if: { all: [{ path_prefix: /admin }, "!is_admin_net"] } }
      - { action: redirect, scheme: https, code: 301, if: { host: secure.example } }
      - { action: redirect, prefix: "https://new.example/", if: { host: old.example } }
      - { action: redirect, location: /maintenance.html, code: 307, if: { path: /down } }
      - { action: return, status: 200, body: pong, content_type: text/plain, if: { path: /ping } }
      - { action: set_header, name: X-Env, value: prod }
      - { action: add_header, name: X-Added, value: "1" }
      - { action: del_header, name: X-Secret }
      - { action: replace_header, name: X-Rewrite, match: "^v(\\\\d+)$", replace: "version-\\\\1" }
      - { action: set_path, value: /new, if: { path: /legacy-path } }
      - { action: deny, status: 429, body: slow down, if: { header: x-flood } }
    http_response:
      - { action: set_header, name: X-Frontend, value: web }
      - { action: del_header, name: Server }
      - { action: set_status, status: 404, if: { path_prefix: /hidden } }
backends:
  api: { servers: { a: { address: 127.0.0.1, port: 9001 } } }
  api_write: { servers: { a: { address: 127.0.0.1, port: 9001 } } }
  admin: { servers: { a: { address: 127.0.0.1, port: 9002 } } }
  static: { servers: { a: { address: 127.0.0.1, port: 9003 } } }
  beta: { servers: { a: { address: 127.0.0.1, port: 9004 } } }
  mobile: { servers: { a: { address: 127.0.0.1, port: 9005 } } }
  legacy: { servers: { a: { address: 127.0.0.1, port: 9006 } } }
  www:
    servers: { a: { address: 127.0.0.1, port: 9007 } }
    http_response:
      - { action: add_header, name: X-Backend, value: www }
`;

function load(): TandemConfig {
  const r = loadConfigText(YAML, "routing.yaml");
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return r.config;
}
const config = load();
const web = config.frontends[0];

function req(method: string, target: string, host: string, headers: string[] = []): HttpMessage {
  const p = new HeadParser("request", web.limits);
  const m = p.push(Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${headers.map((h) => h + "\r\n").join("")}\r\n`, "latin1"));
  assert.ok(m);
  return m;
}

/** [name, method, target, host, headers, src, expected backend or status] */
const ROUTES: [string, string, string, string, string[], string, string | number][] = [
  ["default backend", "GET", "/", "www.example", [], "1.2.3.4", "www"],
  ["api read", "GET", "/api/users", "www.example", [], "1.2.3.4", "api"],
  ["api HEAD", "HEAD", "/api/users", "www.example", [], "1.2.3.4", "api"],
  ["api write falls to the next rule", "POST", "/api/users", "www.example", [], "1.2.3.4", "api_write"],
  ["path prefix needs the slash", "GET", "/apiary", "www.example", [], "1.2.3.4", "www"],
  ["admin host from admin net", "GET", "/", "admin.example", [], "10.1.2.3", "admin"],
  ["admin host from IPv6 admin net", "GET", "/", "admin.example", [], "2001:db8::5", "admin"],
  ["admin host from outside", "GET", "/", "admin.example", [], "1.2.3.4", "www"],
  ["host match ignores case and port", "GET", "/", "ADMIN.example:8080", [], "10.0.0.1", "admin"],
  ["admin path from outside is denied", "GET", "/admin/x", "www.example", [], "1.2.3.4", 403],
  ["admin path from inside is allowed", "GET", "/admin/x", "www.example", [], "10.9.9.9", "www"],
  ["IPv4-mapped source matches", "GET", "/admin/x", "www.example", [], "::ffff:10.0.0.7", "www"],
  ["static by regex", "GET", "/a/b/site.css", "www.example", [], "1.2.3.4", "static"],
  ["static regex does not match the query", "GET", "/page?f=a.css", "www.example", [], "1.2.3.4", "www"],
  ["static by wildcard host", "GET", "/x", "img.cdn.example", [], "1.2.3.4", "static"],
  ["wildcard host needs a subdomain", "GET", "/x", "cdn.example", [], "1.2.3.4", "www"],
  ["beta by query", "GET", "/x?a=2&beta=1", "www.example", [], "1.2.3.4", "beta"],
  ["beta query must equal", "GET", "/x?beta=2", "www.example", [], "1.2.3.4", "www"],
  ["beta query encoded", "GET", "/x?%62eta=%31", "www.example", [], "1.2.3.4", "beta"],
  ["beta by header regex", "GET", "/x", "www.example", ["X-Token: deadbeef"], "1.2.3.4", "beta"],
  ["header regex mismatch", "GET", "/x", "www.example", ["X-Token: nope"], "1.2.3.4", "www"],
  ["header equals, any occurrence", "GET", "/x", "www.example", ["User-Agent: curl", "User-Agent: App/1"], "1.2.3.4", "mobile"],
  ["header equals is exact", "GET", "/x", "www.example", ["User-Agent: App/10"], "1.2.3.4", "www"],
  ["exact path list", "GET", "/older", "www.example", [], "1.2.3.4", "legacy"],
  ["exact path is not a prefix", "GET", "/old/x", "www.example", [], "1.2.3.4", "www"],
  ["header existence denies with custom status", "GET", "/", "www.example", ["X-Flood: 1"], "1.2.3.4", 429],
  ["return answers locally", "GET", "/ping", "www.example", [], "1.2.3.4", 200],
  ["redirect by scheme", "GET", "/p?q=1", "secure.example", [], "1.2.3.4", 301],
  ["redirect by prefix", "GET", "/p", "old.example", [], "1.2.3.4", 302],
  ["redirect to a location", "GET", "/down", "www.example", [], "1.2.3.4", 307],
];

describe("route()", () => {
  for (const [name, method, target, host, headers, src, want] of ROUTES) {
    it(name, () => {
      const got = route(web, req(method, target, host, headers), envFor(src));
      if (typeof want === "string") assert.equal(got, want);
      else assert.equal(typeof got === "string" ? got : got.status, want);
    });
  }

  it("redirect locations", () => {
    const loc = (m: HttpMessage) => {
      const r = route(web, m, envFor("1.2.3.4"));
      assert.ok(typeof r !== "string");
      return r.headers?.find(([k]) => k === "Location")?.[1];
    };
    assert.equal(loc(req("GET", "/p?q=1", "secure.example:8443")), "https://secure.example:8443/p?q=1");
    assert.equal(loc(req("GET", "/p?x", "old.example")), "https://new.example/p?x");
    assert.equal(loc(req("GET", "/down", "www.example")), "/maintenance.html");
  });

  it("return and deny bodies", () => {
    const pong = route(web, req("GET", "/ping", "w"), envFor("1.2.3.4"));
    assert.ok(typeof pong !== "string");
    assert.equal(pong.body, "pong");
    assert.equal(pong.contentType, "text/plain");
    const flood = route(web, req("GET", "/", "w", ["X-Flood: y"]), envFor("1.2.3.4"));
    assert.ok(typeof flood !== "string");
    assert.equal(flood.body, "slow down");
  });

  it("header rules edit the request in order", () => {
    const m = req("GET", "/legacy-path?k=v", "www.example", ["X-Env: dev", "X-Env: test", "X-Secret: s", "X-Rewrite: v42"]);
    const fired: string[] = [];
    assert.equal(route(web, m, envFor("1.2.3.4"), fired), "www");
    assert.deepEqual(m.getAll("x-env"), ["prod"]);
    assert.equal(m.get("x-added"), "1");
    assert.equal(m.get("x-secret"), undefined);
    assert.equal(m.get("x-rewrite"), "version-42");
    assert.equal(m.target, "/new?k=v");
    assert.ok(fired.includes("set_path /new if path = /legacy-path"), fired.join("\n"));
    assert.equal(fired.at(-1), "default_backend www");
  });

  it("response rules: frontend and backend", () => {
    const request = req("GET", "/hidden/x", "www.example");
    const res = parseResponse(Buffer.from("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"));
    applyRules(compileBackend(config.backends.find((b) => b.name === "www")!).responseRules, res, request, envFor("1.2.3.4"));
    applyRules(compileFrontend(web).responseRules, res, request, envFor("1.2.3.4"));
    assert.equal(res.status, 404);
    assert.equal(res.reason, "Not Found");
    assert.equal(res.get("server"), undefined);
    assert.equal(res.get("x-frontend"), "web");
    assert.equal(res.get("x-backend"), "www");
  });

  it("no default backend answers 503", () => {
    const f = { ...web, defaultBackend: undefined, useBackend: [], httpRequest: [] };
    const r = route(f, req("GET", "/", "w"), envFor("1.2.3.4"));
    assert.ok(typeof r !== "string" && r.status === 503);
  });

  it("rejects header values with control characters at compile time", () => {
    const f = { ...web, httpRequest: [{ action: "set_header" as const, name: "X-A", value: "a\r\nInjected: 1" }] };
    assert.throws(() => compileFrontend(f), /control character/);
  });

  it("checkHttpConfig reports rule errors per frontend", () => {
    assert.deepEqual(checkHttpConfig(config), []);
    const bad = { ...config, frontends: [{ ...web, httpRequest: [{ action: "set_path" as const, value: "no-slash" }] }] };
    assert.match(checkHttpConfig(bad).join("\n"), /Frontend "web" http_request\[0\]: set_path value "no-slash"/);
  });

  it("reads the client address only when a condition tests it (no getpeername per request otherwise)", () => {
    const noSrc = { ...web, httpRequest: [], httpResponse: [], useBackend: [{ backend: "api", if: { acl: "is_api" } }] };
    const quiet = envFor("10.1.1.1");
    route(noSrc, req("GET", "/api/x", "w"), quiet);
    assert.equal(quiet.reads, 0);
    const asks = envFor("10.1.1.1");
    route(web, req("GET", "/admin/x", "w"), asks);
    assert.ok(asks.reads > 0);
  });

  it("rejects a cyclic ACL", () => {
    const f = { ...web, httpRequest: [], httpResponse: [], acls: { a: { acl: "b" }, b: { acl: "a" } }, useBackend: [{ backend: "www", if: { acl: "a" } }] };
    assert.throws(() => compileFrontend(f), /refers to itself/);
  });
});

describe("forwarded headers", () => {
  it("strips hop-by-hop fields and those named by Connection", () => {
    const m = req("GET", "/", "w", ["Connection: keep-alive, X-Hop", "Keep-Alive: 5", "X-Hop: 1", "TE: trailers", "Upgrade: h2c", "Proxy-Connection: x", "X-Keep: 1"]);
    stripHopByHop(m, false);
    assert.deepEqual(m.lower, ["host", "x-keep"]);
  });
  it("keeps Upgrade for a WebSocket handshake", () => {
    const m = req("GET", "/", "w", ["Connection: Upgrade", "Upgrade: websocket"]);
    stripHopByHop(m, true);
    assert.equal(m.get("upgrade"), "websocket");
    assert.equal(m.get("connection"), "upgrade");
  });
  it("takes h2c out of an Upgrade request (RFC 9113 §3.1), with HTTP2-Settings", () => {
    const h2c = ["Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__"];
    const m = req("GET", "/", "w", h2c);
    assert.equal(upgradeRequested(m, false), false);
    stripHopByHop(m, false);
    assert.deepEqual(m.lower, ["host"]);
    const both = req("GET", "/", "w", ["Connection: Upgrade", "Upgrade: H2C, websocket/13", "HTTP2-Settings: x"]);
    assert.equal(upgradeRequested(both, false), true);
    assert.equal(both.get("upgrade"), "websocket/13");
    assert.equal(both.get("http2-settings"), undefined);
    const allowed = req("GET", "/", "w", h2c);
    assert.equal(upgradeRequested(allowed, true), true);
    assert.equal(allowed.get("upgrade"), "h2c");
    assert.equal(upgradeRequested(req("GET", "/", "w", ["Upgrade: websocket"]), false), false, "no Connection: upgrade");
  });
  it("accepts a 101 only to a protocol the request offered, named in Upgrade (RFC 9110 §7.8)", () => {
    const ws = req("GET", "/", "w", ["Connection: Upgrade", "Upgrade: websocket"]);
    const res = (upgrade: string) => parseResponse(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n${upgrade}\r\n`));
    assert.equal(upgradeAccepted(ws, res("Upgrade: WebSocket\r\n")), true);
    assert.equal(upgradeAccepted(ws, res("Upgrade: h2c\r\n")), false);
    assert.equal(upgradeAccepted(ws, res("")), false);
  });
  it("adds X-Forwarded-* and Via", () => {
    const m = req("GET", "/", "w.example:81", ["X-Forwarded-For: 9.9.9.9", "X-Forwarded-Proto: https", "Via: 1.1 other"]);
    addForwarded(m, "1.2.3.4", "http");
    addVia(m, 1);
    assert.deepEqual(m.getAll("x-forwarded-for"), ["9.9.9.9", "1.2.3.4"]);
    assert.deepEqual(m.getAll("x-forwarded-proto"), ["http"]);
    assert.equal(m.get("x-forwarded-host"), "w.example:81");
    assert.equal(m.get("via"), "1.1 other, 1.1 tandem");
  });
});

describe("tandem route", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-route-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "t.yaml");
  writeFileSync(file, YAML);
  const run = (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = runRoute(argv, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join("\n"), err: err.join("\n") };
  };

  it("names the backend and the rules that fired", () => {
    const r = run("--config", file, "GET", "http://www.example/api/x", "-H", "X-Token: 1");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /use_backend api if \(is_api and method GET\|HEAD\)/);
    assert.match(r.out, /^backend api: a 127\.0\.0\.1:9001$/m);
  });
  it("uses --src for source conditions", () => {
    const r = run("route", "--config", file, "--src", "10.0.0.1", "GET", "http://admin.example/");
    assert.match(r.out, /^backend admin/m);
  });
  it("shows local responses", () => {
    const r = run("--config", file, "GET", "http://www.example/admin");
    assert.match(r.out, /^response 403/m);
    const r2 = run("--config", file, "GET", "/p", "-H", "Host: secure.example");
    assert.match(r2.out, /^response 301 Location: https:\/\/secure\.example\/p$/m);
  });
  it("reports requests tandem would reject", () => {
    const r = run("--config", file, "GET", "http://www.example/", "-H", "X-Bad : 1");
    assert.equal(r.code, 2);
    assert.match(r.out, /rejected with 400: whitespace before the colon/);
  });
  it("usage errors", () => {
    assert.equal(run("GET").code, 2);
    assert.equal(run("--config", file, "--bogus", "GET", "/").code, 2);
  });
});
