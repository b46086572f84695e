// Runs inside a fresh network namespace (see nonlocal_bind_test.ts): binds a VIP the namespace
// does not hold, reports, then on "go" connects to the VIP once it has been added.

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { backend, config, frontend, namedServer, server, startProxy, whoAnswers } from "../proxy/fixtures.ts";

const vip = process.argv[2];
const port = Number(process.argv[3]);
const before = readFileSync("/proc/sys/net/ipv4/ip_nonlocal_bind", "latin1").trim();
const s = await namedServer("behind-vip");
const h = await startProxy(config([frontend("vip", [`${vip}:${port}`])], [backend("vip", [server("S", s.port)])]));
const after = readFileSync("/proc/sys/net/ipv4/ip_nonlocal_bind", "latin1").trim();
const status = h.ctx.services.proxy!.status() as { frontends: { listeners: { bound: boolean }[] }[] };
console.log(JSON.stringify({ before, after, bound: status.frontends[0].listeners[0].bound }));
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line !== "go") continue;
  let answer: string;
  try {
    answer = await whoAnswers(port, vip);
  } catch (err) {
    answer = `error: ${(err as Error).message}`;
  }
  console.log(JSON.stringify({ answer }));
  break;
}
await h.stop();
await s.close();
process.exit(0);
