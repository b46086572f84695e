// keepalived.conf parser: nested braces, ! and # comments, quotes, continuation, unbalanced braces.

import { test } from "node:test";
import assert from "node:assert/strict";
import { blockLines, child, parseKeepalivedConfig } from "../../src/import/keepalived_conf.ts";

const SAMPLE = `! Configuration File for keepalived
global_defs {
notification_email {
a@b.c
x@y.z   # second
}
smtp_server 192.168.8.153 #报警邮箱设置
}
vrrp_script chk{
script "/etc/keepalived/chk haproxy.sh --quiet"
interval 4
} #对haproxy的健康检查脚本
vrrp_instance VI_1 { state MASTER ! inline
  virtual_ipaddress {
    192.168.8.248/24 dev eth0 \\
      label eth0:1
  }
}
`;

test("statements, nested blocks, comments and lines", () => {
  const cfg = parseKeepalivedConfig(SAMPLE, "k.conf");
  assert.deepEqual(cfg.problems, []);
  assert.deepEqual(cfg.nodes.map((n) => [n.keyword, n.args, n.line]), [["global_defs", [], 2], ["vrrp_script", ["chk"], 9], ["vrrp_instance", ["VI_1"], 13]]);
  const g = cfg.nodes[0];
  assert.deepEqual(blockLines(child(g, "notification_email")).map((l) => l.words[0]), ["a@b.c", "x@y.z"]);
  assert.equal(child(g, "smtp_server")!.comment, "报警邮箱设置");
  assert.deepEqual(child(g, "smtp_server")!.args, ["192.168.8.153"]);
});

test("quotes group a script with blanks; a comment after } describes the block", () => {
  const s = parseKeepalivedConfig(SAMPLE, "k.conf").nodes[1];
  assert.deepEqual(child(s, "script")!.args, ["/etc/keepalived/chk haproxy.sh --quiet"]);
  assert.equal(s.comment, "对haproxy的健康检查脚本");
});

test("a block may open on the keyword's line and hold statements there; a backslash continues a line", () => {
  const i = parseKeepalivedConfig(SAMPLE, "k.conf").nodes[2];
  assert.deepEqual(child(i, "state")!.args, ["MASTER"]);
  assert.deepEqual(blockLines(child(i, "virtual_ipaddress")), [{ words: ["192.168.8.248/24", "dev", "eth0", "label", "eth0:1"], line: 15, comment: undefined }]);
});

test("unbalanced braces are reported with their line", () => {
  assert.deepEqual(parseKeepalivedConfig("a {\n b {\n}\n", "k.conf").problems, [{ line: 1, message: 'the block of "a" is never closed' }]);
  assert.deepEqual(parseKeepalivedConfig("}\n", "k.conf").problems, [{ line: 1, message: '"}" closes nothing' }]);
});
