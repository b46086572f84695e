// haproxy ACLs and conditions → tandem conditions; the regexes they produce match like haproxy.

import { test } from "node:test";
import assert from "node:assert/strict";
import { translateCondition, translateCriterion } from "../../src/import/haproxy_acl.ts";
import type { AclScope } from "../../src/import/haproxy_acl.ts";

const crit = (line: string) => translateCriterion(line.split(" "));

test("criteria with a direct equivalent", () => {
  // haproxy compares the whole Host value, port included: not tandem's host: (port ignored).
  assert.deepEqual(crit("hdr(host) -i shop.example.com www.example.com"), { cond: { header: "host", equals: ["shop.example.com", "www.example.com"], ignore_case: true } });
  assert.deepEqual(crit("hdr(host) shop.example.com:8080"), { cond: { header: "host", equals: "shop.example.com:8080" } });
  assert.deepEqual(crit("http_auth(admins)"), { cond: { http_auth: "admins" } });
  assert.deepEqual(crit("http_auth_group(admins) ops dev"), { cond: { http_auth: "admins", groups: ["ops", "dev"] } });
  assert.deepEqual(crit("sc_http_req_rate(0) gt 10"), { cond: { counter: "http_req_rate", gt: 10 } });
  assert.deepEqual(crit("sc0_conn_cur ge 5"), { cond: { counter: "conn_cur", ge: 5 } });
  assert.deepEqual(crit("src_http_err_rate ne 0"), { cond: { not: { counter: "http_err_rate", eq: 0 } } });
  assert.ok("reason" in crit("sc1_http_req_rate gt 1"));
  assert.ok("reason" in crit("sc_gpc0_rate(0) gt 1"));
  assert.deepEqual(crit("path_beg /api/ /v2/"), { cond: { path_prefix: ["/api/", "/v2/"] } });
  assert.deepEqual(crit("path /healthz"), { cond: { path: "/healthz" } });
  assert.deepEqual(crit("src 10.0.0.0/8 192.0.2.1"), { cond: { src: ["10.0.0.0/8", "192.0.2.1"] } });
  assert.deepEqual(crit("method get POST"), { cond: { method: ["GET", "POST"] } });
  assert.deepEqual(crit("req.hdr(X-Debug) -m found"), { cond: { header: "x-debug", exists: true } });
  assert.deepEqual(crit("hdr_cnt(X-Debug) gt 0"), { cond: { header: "x-debug", exists: true } });
  assert.deepEqual(crit("urlp(debug) 1"), { cond: { query: "debug", equals: "1" } });
  assert.deepEqual(crit("url_beg /static"), { cond: { path_prefix: "/static" } });
});

test("matching methods become regexes that match what haproxy matched", () => {
  const re = (line: string) => {
    const r = crit(line) as { cond: Record<string, string> };
    return new RegExp(r.cond.path_regex ?? r.cond.regex);
  };
  const end = re("path_end .css .js");
  assert.ok(end.test("/a/b.css") && end.test("/x.js") && !end.test("/x.json"));
  const dir = re("path_dir api");
  assert.ok(dir.test("/api") && dir.test("/v1/api/x") && !dir.test("/apis"));
  const beg = re("path_beg -i /Admin");
  assert.ok(beg.test("/ADMIN/x") && beg.test("/admin") && !beg.test("/x/admin"));
  const host = re("hdr_end(host) -i .example.com");
  assert.ok(host.test("WWW.Example.COM") && !host.test("example.community"));
  const dom = re("hdr_dom(host) -i example.com");
  assert.ok(dom.test("www.example.com") && dom.test("example.com:8080") && !dom.test("notexample.com"));
  const sub = re("hdr_sub(user-agent) bot");
  assert.ok(sub.test("Googlebot/2.1") && !sub.test("Mozilla"));
  const exact = re("path -i /Login");
  assert.ok(exact.test("/login") && !exact.test("/login/x"));
});

test("criteria without an equivalent say why", () => {
  assert.match((crit("ssl_c_used") as { reason: string }).reason, /"ssl_c_used" has no tandem equivalent/);
  assert.match((crit("src -f /etc/haproxy/blocked.lst") as { reason: string }).reason, /values read from a file/);
  assert.match((crit("path_len gt 100") as { reason: string }).reason, /-m len/);
  assert.match((crit("hdr(host),word(1,.) a") as { reason: string }).reason, /converter ",word\(1,\.\)"/);
});

function scope(defs: Record<string, string>): AclScope {
  const s: AclScope = new Map();
  for (const [name, body] of Object.entries(defs)) s.set(name, { results: [translateCriterion(body.split(" "))], line: 1 });
  return s;
}

test("conditions: and, or, negation, unless, anonymous ACLs", () => {
  const s = scope({ a: "path_beg /a", b: "src 10.0.0.0/8", tls: "ssl_fc" });
  const cond = (text: string, named = true) => translateCondition(text.split(" "), s, named);
  assert.deepEqual(cond("if a"), { cond: "a" });
  assert.deepEqual(cond("if a !b"), { cond: { all: ["a", "!b"] } });
  assert.deepEqual(cond("if a || b"), { cond: { any: ["a", "b"] } });
  assert.deepEqual(cond("if a or ! b c", true), { reason: 'ACL "c" is not defined in this section' });
  assert.deepEqual(cond("unless a"), { cond: "!a" });
  assert.deepEqual(cond("if { path /x } b"), { cond: { all: [{ path: "/x" }, "b"] } });
  assert.deepEqual(cond("if a", false), { cond: { path_prefix: "/a" } });
  assert.deepEqual(cond("if !tls a"), { cond: { all: ["!tls", "a"] } });
  assert.deepEqual(cond("unless { ssl_fc }"), { cond: { not: { tls: true } } });
  assert.deepEqual(translateCriterion(["ssl_fc_sni", "api.example.com"]), { cond: { sni: ["api.example.com"] } });
  assert.deepEqual(translateCriterion(["ssl_fc_sni", "-m", "end", ".example.com"]), { cond: { sni: ["*.example.com"] } });
});

test("predefined ACLs fold: TRUE drops the condition, FALSE the rule", () => {
  const s = scope({ a: "path /a" });
  assert.deepEqual(translateCondition(["if", "TRUE"], s, true), { always: true });
  assert.deepEqual(translateCondition(["if", "a", "FALSE"], s, true), { never: true });
  assert.deepEqual(translateCondition(["if", "a", "||", "TRUE"], s, true), { always: true });
  assert.deepEqual(translateCondition(["if", "METH_POST", "LOCALHOST"], s, true), { cond: { all: [{ method: ["POST"] }, { src: "127.0.0.1/8" }] } });
  assert.deepEqual(translateCondition(["unless", "TRUE"], s, true), { never: true });
});
