// Reloads under HTTP keep-alive traffic: no client sees an error, and every connection moves to the new config.

import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { loadConfigText } from "../../src/tandem_config.ts";
import { freePort, httpBackend, startProxy } from "./http_helpers.ts";
import type { Backend, Proxy } from "./http_helpers.ts";

/** One GET; resolves with the status and the X-V header, or the client's error message. */
function get(port: number, agent: Agent): Promise<{ status: number; version: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, version: String(res.headers["x-v"]) }));
    });
    req.on("error", (err) => resolve({ error: err.message }));
    req.end();
  });
}

describe("reload under keep-alive traffic", () => {
  let backend: Backend;
  let proxy: Proxy;
  let port: number;
  const yaml = (v: number) => `
frontends:
  web:
    bind: 127.0.0.1:${port}
    timeout: { http_keep_alive: 10s }
    http_response:
      - { action: set_header, name: X-V, value: "${v}" }
    default_backend: b
backends:
  b: { servers: { b1: { address: 127.0.0.1, port: ${backend.port} } } }
`;

  before(async () => {
    backend = await httpBackend("b");
    port = await freePort();
    proxy = await startProxy(yaml(0));
  });

  after(async () => {
    await proxy.stop();
    await backend.close();
  });

  it("20 reloads while 20 keep-alive clients send requests: no client error; then every answer comes from the last config", async () => {
    // Node's Agent does not retry a request whose reused connection closes under it: each such
    // close would be an error here (the race a close of an idle keep-alive connection opens).
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const errors: string[] = [];
    let answered = 0;
    let running = true;
    const client = async () => {
      while (running) {
        const r = await get(port, agent);
        if ("error" in r) errors.push(r.error);
        else if (r.status !== 200) errors.push(`status ${r.status}`);
        else answered++;
      }
    };
    const clients = Array.from({ length: 20 }, client);
    for (let v = 1; v <= 20; v++) {
      await new Promise((r) => setTimeout(r, 50));
      const next = loadConfigText(yaml(v), "test.yaml").config!;
      await proxy.subsystem.reload!(next);
    }
    await new Promise((r) => setTimeout(r, 50));
    running = false;
    await Promise.all(clients);
    assert.deepEqual(errors, [], `${errors.length} client errors in ${answered + errors.length} requests`);
    assert.ok(answered > 100, `answered ${answered}`);
    // Each connection of an old config got Connection: close with its next answer, so after one
    // more round on every socket only the last config answers.
    const after = await Promise.all(Array.from({ length: 40 }, () => get(port, agent)));
    const versions = after.map((r) => ("error" in r ? r.error : r.version));
    assert.deepEqual(versions.slice(20), Array(20).fill("20"), versions.join(" "));
    agent.destroy();
  });
});
