// haproxy.cfg lexer and section parser: comments, quotes, escapes, line numbers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parseHaproxyConfig, tokenizeHaproxyLine } from "../../src/import/haproxy_cfg.ts";

test("a # after a value starts a comment, even inside a word", () => {
  assert.deepEqual(tokenizeHaproxyLine("timeout connect 4000 #连接超时"), { words: ["timeout", "connect", "4000"], comment: "连接超时", problem: undefined });
  assert.deepEqual(tokenizeHaproxyLine("stats uri /#统计").words, ["stats", "uri", "/"]);
  assert.deepEqual(tokenizeHaproxyLine("   # only a comment").words, []);
});

test("quotes group words; single quotes are literal; # inside quotes is text", () => {
  assert.deepEqual(tokenizeHaproxyLine('http-response set-header X-A "max-age=1; a # b"').words, ["http-response", "set-header", "X-A", "max-age=1; a # b"]);
  assert.deepEqual(tokenizeHaproxyLine("acl a path_reg '^/a\\ b$'").words, ["acl", "a", "path_reg", "^/a\\ b$"]);
  assert.deepEqual(tokenizeHaproxyLine('x "it\'s"').words, ["x", "it's"]);
  assert.deepEqual(tokenizeHaproxyLine('x ""').words, ["x", ""]);
});

test("backslash escapes: space, #, quotes, \\r\\n, hex; others stay", () => {
  assert.deepEqual(tokenizeHaproxyLine("reqadd X-Forwarded-Proto:\\ https").words, ["reqadd", "X-Forwarded-Proto: https"]);
  assert.deepEqual(tokenizeHaproxyLine("option httpchk GET / HTTP/1.1\\r\\nHost:\\ a").words, ["option", "httpchk", "GET", "/", "HTTP/1.1\r\nHost: a"]);
  assert.deepEqual(tokenizeHaproxyLine("x a\\#b \\x41 \\1").words, ["x", "a#b", "A", "\\1"]);
});

test("lines haproxy reads surprisingly are reported", () => {
  assert.match(tokenizeHaproxyLine("bind :80 \\").problem!, /does not continue lines/);
  assert.match(tokenizeHaproxyLine('x "open').problem!, /unmatched double quote/);
});

test("sections keep their directives with 1-based lines; CRLF and a BOM are fine", () => {
  const text = "\uFEFFglobal #全局\r\n  daemon\r\n\r\nlisten web 10.0.0.1:80 # old style\r\n  server a 10.0.0.2\r\n";
  const cfg = parseHaproxyConfig(text, "h.cfg");
  assert.equal(cfg.sections.length, 2);
  assert.deepEqual(cfg.sections[0], { kind: "global", name: undefined, args: [], line: 1, comment: "全局", directives: [{ words: ["daemon"], line: 2, comment: undefined }] });
  assert.equal(cfg.sections[1].name, "web");
  assert.deepEqual(cfg.sections[1].args, ["10.0.0.1:80"]);
  assert.equal(cfg.sections[1].comment, "old style");
  assert.equal(cfg.sections[1].directives[0].line, 5);
  assert.deepEqual(cfg.problems, []);
});

test("a directive before any section is a problem, not a crash", () => {
  const cfg = parseHaproxyConfig("maxconn 10\nglobal\n", "h.cfg");
  assert.deepEqual(cfg.problems, [{ line: 1, message: '"maxconn" appears before any section (global, defaults, listen...)' }]);
});
