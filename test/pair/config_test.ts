// The pair section and the fingerprint both hosts compare.

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigText } from "../../src/tandem_config.ts";
import { formatDiagnostic } from "../../src/config/diagnostics.ts";
import { canonicalJson, differingKeys, fingerprint } from "../../src/pair/fingerprint.ts";

const base = (pair: string, extra = "") => `
pair:
${pair}
proxies:
  web:
    mode: tcp
    bind: "0.0.0.0:8080"
    timeout: { connect: 5s }
    servers:
      a: { address: 127.0.0.1, port: 9000 }
${extra}`;

const ROLES = `  roles:
    master: { address: 192.0.2.11 }
    backup: { address: 192.0.2.12 }`;

const errors = (text: string, role: "master" | "backup" = "master") =>
  loadConfigText(text, "t.yaml", role).diagnostics.map((d) => formatDiagnostic("t.yaml", d)).join("\n");

test("pair.roles picks this host's address and the peer's; defaults", () => {
  const text = base(`  key: 0123456789abcdef0123456789abcdef\n${ROLES}`);
  const m = loadConfigText(text, "t.yaml", "master").config!.pair;
  assert.deepEqual(m.link && { self: m.link.self, peer: m.link.peer, port: m.link.port, timeout: m.link.timeout }, {
    self: { role: "master", address: "192.0.2.11" }, peer: { role: "backup", address: "192.0.2.12" }, port: 7400, timeout: 3000,
  });
  assert.equal(m.closeOnVipLoss, true);
  const b = loadConfigText(text, "t.yaml", "backup").config!.pair.link!;
  assert.deepEqual([b.self.address, b.peer.address], ["192.0.2.12", "192.0.2.11"]);
});

test("without pair: no link, connections on a VIP that leaves are still closed, and the fingerprint is there", () => {
  const c = loadConfigText(base("  close_on_vip_loss: false").replace("pair:\n", "pair:\n"), "t.yaml").config!;
  assert.equal(c.pair.link, undefined);
  assert.equal(c.pair.closeOnVipLoss, false);
  const none = loadConfigText(base("").replace("pair:\n\n", ""), "t.yaml").config!;
  assert.equal(none.pair.closeOnVipLoss, true);
  assert.equal(none.pair.fingerprint.hash.length, 64);
});

test("mistakes in the pair section are reported with their place", () => {
  assert.match(errors(base(`  key: k\n${ROLES}`)), /t\.yaml:3:8: warning: pair\.key has 1 characters/);
  assert.match(errors(base(ROLES)), /pair\.key is missing/);
  assert.match(errors(base("  key: 0123456789abcdef0123456789abcdef")), /pair\.roles is missing/);
  assert.match(errors(base(`  key: 0123456789abcdef0123456789abcdef\n  roles:\n    master: { address: 192.0.2.11 }\n    backup: { address: 192.0.2.11 }`)), /both roles have the address 192\.0\.2\.11/);
  assert.match(errors(base(`  key: 0123456789abcdef0123456789abcdef\n  roles:\n    master: { address: 192.0.2.11 }\n    bakup: { address: nope }`)), /unknown role "bakup"[\s\S]*did you mean "backup"|role "backup" has no address/);
  assert.match(errors(base(`  key: 0123456789abcdef0123456789abcdef\n  port: 8080\n${ROLES}`)), /0\.0\.0\.0:8080|192\.0\.2\.11:8080 is bound twice: by "pair"/);
});

test("the fingerprint ignores key order, units and the pair key; the differing keys come in file order", () => {
  const one = loadConfigText(base(`  key: first-secret-0123456789\n${ROLES}`), "t.yaml").config!.pair.fingerprint;
  const reordered = base(`${ROLES}\n  key: other-secret-0123456789`).replace("timeout: { connect: 5s }", "timeout: { connect: 5000 }");
  const two = loadConfigText(reordered, "t.yaml").config!.pair.fingerprint;
  assert.equal(one.hash, two.hash);
  assert.ok(!one.leaves.some(([p]) => p === "pair.key"));
  const changed = loadConfigText(base(`  key: x-0123456789abcdef\n${ROLES}`).replace("port: 9000", "port: 9001"), "t.yaml").config!.pair.fingerprint;
  assert.notEqual(changed.hash, one.hash);
  assert.deepEqual(differingKeys(one.leaves, changed.leaves), { keys: ["proxies.web.servers.a.port"], more: 0 });
});

test("canonical JSON and leaves of lists", () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: null }] }), '{"a":[2,{"c":null,"d":1}],"b":1}');
  const a = fingerprint({ alerts: [{ name: "x" }], notify: {} });
  const b = fingerprint({ alerts: [{ name: "x" }, { name: "y" }], notify: {} });
  assert.deepEqual(differingKeys(a.leaves, b.leaves), { keys: ["alerts[1].name"], more: 0 });
  const many = fingerprint({ x: Array.from({ length: 9 }, (_, i) => i) });
  assert.deepEqual(differingKeys(many.leaves, []).more, 4);
});
