// The daemon's reload: applied by every subsystem or by none, and said so (events, outcome).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Daemon } from "../../src/cli/daemon.ts";
import { loadConfigFile } from "../../src/tandem_config.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { createLogger } from "../../src/core/log.ts";
import type { Subsystem } from "../../src/core/subsystem.ts";

/** A subsystem that records the files it was given and fails its reload when told to. */
function recorder(name: string, seen: string[], fail: { now: boolean }): Subsystem {
  return {
    name,
    start: () => Promise.resolve(),
    reload: (c: TandemConfig) => {
      if (fail.now) return Promise.reject(new Error(`Cannot bind "web" on 127.0.0.1:1: address already in use`));
      seen.push(`${name} maxconn ${c.global.maxconn}`);
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
  };
}

describe("Daemon.reload", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-daemon-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "t.yaml");
  const write = (maxconn: number) => writeFileSync(file, `global: { maxconn: ${maxconn}, state_dir: ${dir}/state }\n`);

  it("a subsystem that cannot take the new config: the others go back to the running one, config.reload_failed, not applied", async () => {
    write(100);
    const seen: string[] = [];
    const proxyFails = { now: false };
    const lines: string[] = [];
    const log = createLogger("t", { level: "info", write: (l) => lines.push(l) });
    const daemon = new Daemon(loadConfigFile(file, "master").config!, log, [
      () => recorder("notify", seen, { now: false }),
      () => recorder("proxy", seen, proxyFails),
      () => recorder("alerts", seen, { now: false }),
    ]);
    const events: string[] = [];
    daemon.bus.on("config.reloaded", () => events.push("reloaded"));
    daemon.bus.on("config.reload_failed", (e) => events.push(`failed: ${e.errors.join("; ")}`));

    write(200);
    proxyFails.now = true;
    const bad = await daemon.services.reload!();
    assert.deepEqual(bad, { applied: false, errors: [`proxy: Cannot bind "web" on 127.0.0.1:1: address already in use`] });
    assert.deepEqual(seen, ["notify maxconn 200", "notify maxconn 100"], "notify went back to the running config; alerts never saw the new one");
    assert.deepEqual(events, [`failed: proxy: Cannot bind "web" on 127.0.0.1:1: address already in use`]);
    assert.equal(daemon.config.global.maxconn, 100);
    assert.ok(lines.some((l) => l.includes("reload failed, keeping the running configuration: proxy: Cannot bind")), lines.join("\n"));

    seen.length = 0;
    events.length = 0;
    proxyFails.now = false;
    assert.deepEqual(await daemon.reload(), { applied: true, errors: [] });
    assert.deepEqual(seen, ["notify maxconn 200", "proxy maxconn 200", "alerts maxconn 200"]);
    assert.deepEqual(events, ["reloaded"]);
    assert.equal(daemon.config.global.maxconn, 200);
  });

  it("an invalid file: every error in the outcome, nothing applied", async () => {
    write(100);
    const seen: string[] = [];
    const daemon = new Daemon(loadConfigFile(file, "master").config!, createLogger("t", { level: "error", write: () => {} }), [() => recorder("proxy", seen, { now: false })]);
    writeFileSync(file, "global: { maxconn: -1 }\nbogus: 1\n");
    const r = await daemon.reload();
    assert.equal(r.applied, false);
    assert.equal(r.errors.length, 2, r.errors.join("\n"));
    assert.match(r.errors.join("\n"), /t\.yaml:2:1: error: unknown key "bogus"/);
    assert.deepEqual(seen, []);
  });
});
