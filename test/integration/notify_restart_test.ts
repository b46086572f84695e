// A tandem process killed (SIGKILL) with a non-empty spool: the next instance delivers every message once.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { Services } from "../../src/core/subsystem.ts";
import { createNotifySubsystem, spoolDir, type NotifyStatus } from "../../src/notify/subsystem.ts";
import { decodedSubject, emailNotifier, freePort, startSmtp, testConfig } from "../notify/smtp_fixture.ts";

describe("notify spool across a crash", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "tandem-crash-"));
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it("delivers after restart what a SIGKILLed process had spooled", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "notify_spool_child.ts"), stateDir, String(port), "3"], { stdio: ["ignore", "pipe", "inherit"] });
    after(() => child.kill("SIGKILL"));
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not get ready: ${out}`)), 10_000);
      child.stdout.on("data", (c) => {
        out += c;
        if (out.includes("ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => reject(new Error(`child exited early (${code}): ${out}`)));
    });
    const ids = [...out.matchAll(/spooled (\S+)/g)].map((m) => m[1]);
    assert.equal(ids.length, 3);
    child.removeAllListeners("exit");
    const exited = new Promise((r) => child.once("exit", (_code, signal) => r(signal)));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");

    const config = testConfig(stateDir, { notifiers: [emailNotifier(port)] });
    assert.deepEqual(readdirSync(spoolDir(config, "email")).sort(), ids.map((id) => `${id}.json`).sort());

    const smtp = await startSmtp({ port });
    after(() => smtp.close());
    const services: Services = {};
    const sub = createNotifySubsystem({ config, bus: new EventBus(), clock: systemClock, log: nullLogger, services });
    after(() => sub.stop("test end"));
    await sub.start();
    const status = () => (services.notify!.status() as NotifyStatus).notifiers[0];
    const end = Date.now() + 5000;
    while (status().delivered < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(smtp.mails.length, 3);
    assert.deepEqual(smtp.mails.map((m) => decodedSubject(m.raw)).sort(), ["警告 0", "警告 1", "警告 2"]);
    assert.deepEqual(readdirSync(spoolDir(config, "email")), []);
  });
});
