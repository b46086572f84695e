// Mutated requests and responses through the built binary: it stays up, raises nothing, keeps serving, frees every slot.

import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TandemProcess } from "../helpers/binary.ts";
import { accepting, freePort, listen } from "../helpers/net.ts";
import { lcg, mutate, trickle } from "../helpers/http_fuzz.ts";

const REQUESTS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: f\r\nAccept: */*\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
  "GET / HTTP/1.0\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
  "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  "GET /deny HTTP/1.1\r\nHost: a\r\n\r\nGET /ret HTTP/1.1\r\nHost: a\r\n\r\nGET /redir HTTP/1.1\r\nHost: a\r\n\r\n",
  "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n",
];
const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
  "HTTP/1.1 204 No Content\r\n\r\n",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
  "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nraw",
  "HTTP/1.0 200 OK\r\n\r\nuntil close",
  "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
];
test("mutated requests and responses: the binary answers or closes, raises nothing, keeps serving and frees every slot", async () => {
  const rnd = lcg(20261125);
  let fuzzing = true;
  // A server that answers each read with a response, mutated half of the time, sometimes resets or stays silent.
  const backend = createServer((s) => {
    s.on("error", () => {});
    s.on("data", async () => {
      if (!fuzzing) return void s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      const r = rnd();
      if (r < 0.05) return void s.destroy();
      if (r < 0.08) return;
      const text = RESPONSES[Math.floor(rnd() * RESPONSES.length)];
      await trickle(s, rnd() < 0.5 ? Buffer.from(text, "latin1") : mutate(text, rnd), rnd);
      if (rnd() < 0.1) s.end();
    });
  });
  const bport = await freePort();
  await listen(backend, bport, "127.0.0.1");
  const port = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tandem-fuzz-"));
  writeFileSync(join(dir, "t.yaml"), `global: { state_dir: ${dir}/state }
defaults:
  mode: http
  timeout: { connect: 1s, client: 2s, server: 1s, http_request: 1s }
  retries: 2
frontends:
  web:
    bind: 127.0.0.1:${port}
    acls:
      deny: { path: /deny }
      ret: { path: /ret }
      redir: { path: /redir }
    http_request:
      - { action: deny, status: 403, if: deny }
      - { action: return, status: 200, body: "r", if: ret }
      - { action: redirect, location: "http://b/", if: redir }
      - { action: set_header, name: X-F, value: "1" }
    http_response:
      - { action: set_header, name: X-R, value: "2" }
    forwardfor: true
    access_log: true
    default_backend: b
stats: { bind: 127.0.0.1:${statsPort} }
backends:
  b: { retry_on: [conn-failure, empty-response, junk-response, response-timeout], servers: { b1: { address: 127.0.0.1, port: ${bport} } } }
`);
  const tandem = new TandemProcess(["--config", join(dir, "t.yaml"), "--role", "master"]);
  try {
    await accepting(port);
    // 40 clients, 2,000 requests in all (one to three per connection), sent whole or in pieces.
    let budget = 2000;
    const client = async (): Promise<void> => {
      while (budget > 0 && tandem.child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const s = connect(port, "127.0.0.1");
          const t = setTimeout(() => s.destroy(), 1500 + Math.floor(rnd() * 1500));
          s.on("error", () => {});
          s.on("data", () => {});
          s.on("close", () => (clearTimeout(t), resolve()));
          s.on("connect", async () => {
            for (let j = 1 + Math.floor(rnd() * 3); j > 0 && budget > 0 && !s.destroyed; j--) {
              budget--;
              const text = REQUESTS[Math.floor(rnd() * REQUESTS.length)];
              await trickle(s, rnd() < 0.3 ? Buffer.from(text, "latin1") : mutate(text, rnd), rnd);
            }
            if (rnd() < 0.3) s.end();
            else if (rnd() < 0.1) s.destroy();
          });
        });
      }
    };
    await Promise.all(Array.from({ length: 40 }, client));
    fuzzing = false;
    assert.equal(tandem.child.exitCode, null, `tandem exited:\n${tandem.stderr.slice(-3000)}`);
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      const s = connect(port, "127.0.0.1", () => s.write("GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
      s.on("data", (d: Buffer) => (text += d.toString("latin1")));
      s.on("close", () => resolve(text));
      s.on("error", () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1\.1 200 /, "a well-formed request after the fuzzing is served");
    // Every connection, session and server slot comes back once the clients are gone (the
    // longest wait: timeout client 2 s, or the 1 s linger after an error page).
    type Stats = { info: { connections: number }; frontends: { scur: number }[]; backends: { scur: number; qcur: number; servers: { scur: number }[] }[] };
    const held = (s: Stats) => s.info.connections + s.frontends[0].scur + s.backends[0].scur + s.backends[0].qcur + s.backends[0].servers[0].scur;
    let stats: Stats | undefined;
    for (let i = 0; i < 40 && (stats === undefined || held(stats) !== 0); i++) {
      await new Promise((r) => setTimeout(r, 200));
      stats = (await (await fetch(`http://127.0.0.1:${statsPort}/;json`)).json()) as Stats;
    }
    assert.equal(held(stats!), 0, `still held after the clients left: ${JSON.stringify(stats)}`);
    const raised = tandem.stderr.split("\n").filter((l) => /TypeError|RangeError|ReferenceError|uncaught|unhandled| {4}at /i.test(l));
    assert.deepEqual(raised, [], "no exception reached the log");
    // The fuzzing reached the strict parsers on both sides, not only the happy path.
    const statuses = [...tandem.stderr.matchAll(/ web \S+ (\d{3}|-1) /g)].map((m) => m[1]);
    assert.ok(statuses.filter((s) => s === "400").length > 50, `400s: ${statuses.filter((s) => s === "400").length}`);
    assert.ok(statuses.filter((s) => s === "502").length > 10, `502s: ${statuses.filter((s) => s === "502").length}`);
  } finally {
    await tandem.stop();
    await new Promise((r) => backend.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
