// The seed's haproxy.cfg + both keepalived.conf + crontab import into a config equivalent to exchange.yaml.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importConfigs } from "../../src/import/import_configs.ts";
import { loadConfigText } from "../../src/tandem_config.ts";
import { FIXTURES, inputsOf } from "./fixtures.ts";

const exchange = readFileSync(join(FIXTURES, "..", "exchange.yaml"), "utf8");

for (const role of ["master", "backup"] as const) {
  test(`seed import resolves like exchange.yaml for the ${role}`, () => {
    const { yaml } = importConfigs(inputsOf("seed"));
    const imported = loadConfigText(yaml, "tandem.yaml", role);
    const reference = loadConfigText(exchange, "tandem.yaml", role);
    assert.ok(imported.config, "the import resolves");
    assert.ok(reference.config, "exchange.yaml resolves");
    assert.deepEqual(imported.diagnostics, [], "no warnings either");
    // Section by section, so a difference names its section.
    for (const key of Object.keys(reference.config!) as (keyof typeof reference.config)[]) {
      assert.deepEqual(imported.config![key], reference.config![key], `section ${String(key)}`);
    }
  });
}

test("seed import tells what it did not carry over, with file:line", () => {
  const { notes } = importConfigs(inputsOf("seed"));
  const lines = notes.filter((n) => n.kind !== "info").map((n) => `${n.file}:${n.line}: ${n.kind}: ${n.directive ?? ""}`);
  assert.deepEqual(lines, [
    "seed_haproxy.cfg:4: untranslated: daemon",
    "seed_haproxy.cfg:7: untranslated: ulimit-n 81000",
    "seed_haproxy.cfg:37: untranslated: option httpclose",
    "seed_keepalived_master.conf:12: warning: ",
    "seed_keepalived_master.conf:15: warning: ",
    "seed_crontab:1: warning: ",
  ]);
  const trap = notes.find((n) => n.message.startsWith("weight trap"))!;
  assert.match(trap.message, /weight 2, which can never move the VIP: .*the master has 100 and the backup 50 \+ 2 = 52; \|weight\| must exceed 100 − 50 = 50/);
  assert.match(notes.find((n) => n.line === 12 && n.kind === "warning")!.message, /netstat -tupln \|grep haproxy in chk_haproxy\.sh\): replaced by tandem's proxy tracking, "alive and listening" \(track\.proxy with min_servers: 0, weight 0\)/);
});
