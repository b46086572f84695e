// The built binary mails a server_down alert through a real SMTP server; `tandem alert test` reports delivery.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodedBody, decodedSubject, freePort, startSmtp } from "../notify/smtp_fixture.ts";
import { runTandemAsync, TandemProcess } from "../helpers/binary.ts";
import { listen } from "../helpers/net.ts";

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("server down → one UTF-8 mail from the binary; alert test reports the SMTP outcome", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-alerts-"));
  const smtp = await startSmtp();
  const backendPort = await freePort();
  const frontPort = await freePort();
  const backend = createServer((s) => {
    s.on("error", () => {});
    s.end("hi\n");
  });
  await listen(backend, backendPort);
  const file = join(dir, "t.yaml");
  writeFileSync(file, `
global: { state_dir: ${dir}, hostname: lb-test }
proxies:
  web:
    mode: tcp
    bind: 127.0.0.1:${frontPort}
    servers:
      app: { address: 127.0.0.1, port: ${backendPort}, check: { interval: 100ms, rise: 1, fall: 2 } }
notify:
  email:
    smtp: { host: 127.0.0.1, port: ${smtp.port}, security: none, connect_timeout: 2s }
    from: lb@example.com
    to: [ops@example.com, oncall@example.com]
    retry: { initial: 100ms, max: 500ms }
alerts:
  - name: backend-down
    on: server_down
    group_window: 200ms
    notify: email
    subject: "警告 {server} down on {host}"
`);
  const p = new TandemProcess(["--config", file, "--role", "master"]);
  try {
    await p.waitFor(/tandem started/);
    const tested = await runTandemAsync(["alert", "test", "--config", file]);
    assert.equal(tested.status, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /ok|accepted/i);
    await waitUntil(() => smtp.mails.length === 1, 5000, "the test message");
    await new Promise<void>((r) => backend.close(() => r()));
    await waitUntil(() => smtp.mails.length === 2, 10_000, "the server_down mail");
    const mail = smtp.mails[1];
    assert.equal(decodedSubject(mail.raw), "警告 app down on lb-test");
    assert.deepEqual(mail.to.sort(), ["oncall@example.com", "ops@example.com"]);
    assert.match(decodedBody(mail.raw), /app/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.mails.length, 2, "exactly one alert mail");
  } finally {
    await p.stop();
    await smtp.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
