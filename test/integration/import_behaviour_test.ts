// `tandem import` against the real thing: one haproxy.cfg run by haproxy, then imported and run by the
// binary, with the same clients; the same client must land on the same server, the same request on the
// same backend. Skipped when haproxy is not installed (Debian: apt-get install haproxy).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import type { Server } from "node:net";
import { createServer as createHttpServer, request } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { importConfigs } from "../../src/import/import_configs.ts";
import { freePort } from "../notify/smtp_fixture.ts";
import { TandemProcess } from "../helpers/binary.ts";
import { accepting, firstLine, listen } from "../helpers/net.ts";

const HAPROXY = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].find((p) => spawnSync(p, ["-v"]).status === 0);
const skip = HAPROXY ? false : "haproxy is not installed";

let dir: string;
const servers: Server[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tandem-import-"));
});
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs haproxy in the foreground on cfg; returns a stop function. probe: wait until the port accepts
 * (a connection that takes a turn in the balancing); otherwise the caller retries its first connection.
 */
async function runHaproxy(cfg: string, port: number, probe = true): Promise<() => Promise<void>> {
  const file = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(file, cfg);
  const check = spawnSync(HAPROXY!, ["-c", "-f", file], { encoding: "utf8" });
  assert.equal(check.status, 0, `haproxy rejects the test config:\n${check.stdout}${check.stderr}`);
  const child: ChildProcess = spawn(HAPROXY!, ["-db", "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  try {
    if (probe) await accepting(port);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}; haproxy said:\n${stderr}`);
  }
  return async () => {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
}

/** Imports cfg and runs the binary on it; returns a stop function. probe: as for runHaproxy. */
async function runTandem(cfg: string, port: number, probe = true): Promise<() => Promise<void>> {
  const { yaml, notes } = importConfigs({ haproxy: { path: "haproxy.cfg", text: cfg }, read: () => undefined });
  assert.deepEqual(notes.filter((n) => n.kind === "untranslated" || n.kind === "error"), [], "the test config translates completely");
  const doc = parseDocument(yaml);
  doc.setIn(["global", "state_dir"], dir);
  const file = join(dir, `tandem-${port}.yaml`);
  writeFileSync(file, doc.toString());
  const p = new TandemProcess(["--config", file, "--role", "master"]);
  await p.waitFor(/tandem started/);
  if (probe) await accepting(port);
  return async () => {
    await p.stop();
  };
}

/** Connects from source address `from` and returns the first line the server sends. */
async function greet(port: number, from: string, retry = false): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await greetOnce(port, from);
    } catch (err) {
      // Refused: nothing listens yet, so no balancing decision was made; try again.
      if (!retry || (err as NodeJS.ErrnoException).code !== "ECONNREFUSED" || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The name of the server that answers (its first line is "NAME:port"). */
async function greetOnce(port: number, from: string): Promise<string> {
  return (await firstLine(port, { from })).split(":")[0];
}

test("stick on src: every client stays on one server, new clients go round robin — as with haproxy", { skip }, async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  for (const [i, host] of ["127.0.0.2", "127.0.0.3", "127.0.0.4"].entries()) {
    for (const port of ports) {
      const s = createNetServer((c) => {
        c.on("error", () => {});
        c.end(`CAS${i}:${port}\n`);
      });
      await listen(s, port, host);
      servers.push(s);
    }
  }
  // The seed's listen section, on loopback (haproxy 2.x wants its address on a bind line).
  const cfg = `global
    maxconn 1000
defaults
    mode http
    timeout connect 1000
    timeout client 30s
    timeout server 30s
    balance roundrobin
listen Exchange2010
    bind 127.0.0.1:${ports[0]}
    bind 127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}
    mode tcp
    option persist
    balance roundrobin
    stick-table type ip size 10240k expire 30m
    stick on src
    server CAS0 127.0.0.2 weight 1 check port ${ports[0]} inter 5000 rise 2 fall 3
    server CAS1 127.0.0.3 weight 1 check port ${ports[0]} inter 5000 rise 2 fall 3
    server CAS2 127.0.0.4 weight 1 check port ${ports[0]} inter 5000 rise 2 fall 3
    option redispatch
    option abortonclose
`;
  const clients = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15"];
  const observe = async (): Promise<string[][]> => {
    const seen: string[][] = [];
    for (const c of clients) seen.push([await greet(ports[0], c, seen.length === 0)]);
    // Each client again, on every bound port, interleaved with the others.
    for (let round = 0; round < 2; round++) for (const [i, c] of clients.entries()) seen[i].push(await greet(ports[(round + i) % 3], c));
    return seen;
  };
  const stopH = await runHaproxy(cfg, ports[0], false);
  let viaHaproxy: string[][];
  try {
    viaHaproxy = await observe();
  } finally {
    await stopH();
  }
  const stopT = await runTandem(cfg, ports[0], false);
  let viaTandem: string[][];
  try {
    viaTandem = await observe();
  } finally {
    await stopT();
  }
  for (const [name, seen] of [["haproxy", viaHaproxy], ["tandem", viaTandem]] as const) {
    for (const [i, s] of seen.entries()) assert.equal(new Set(s).size, 1, `${name}: client ${clients[i]} stays on one server: ${s}`);
    const first = seen.map((s) => s[0]);
    assert.equal(new Set(first).size, 3, `${name}: new clients use every server: ${first}`);
    assert.deepEqual(first.slice(3), first.slice(0, 3), `${name}: round robin order repeats: ${first}`);
  }
  // No probe took a turn before the clients came: the same rotation gives the same servers.
  assert.deepEqual(viaTandem, viaHaproxy, "each client lands on the server haproxy gave it");
});

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | undefined>;
}

function get(port: number, req: { method?: string; path: string; headers?: Record<string, string>; from?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: "127.0.0.1", port, method: req.method ?? "GET", path: req.path, headers: { connection: "close", ...req.headers }, localAddress: req.from ?? "127.0.0.1", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d) => (body += d)).on("end", () => {
        const pick = (h: string) => (res.headers[h] === undefined ? undefined : String(res.headers[h]));
        resolve({ status: res.statusCode!, body, headers: { "x-frame-options": pick("x-frame-options"), server: pick("server"), "x-powered-by": pick("x-powered-by") } });
      });
    });
    r.on("error", reject);
    r.setTimeout(3000, () => r.destroy(new Error(`no answer to ${req.path}`)));
    r.end();
  });
}

test("ACL routing and header rules: each request reaches the backend haproxy chose, with the same headers", { skip }, async () => {
  const front = await freePort();
  const names = ["shop", "static", "api", "admin", "upload"];
  const ports: Record<string, number> = {};
  for (const name of names) {
    ports[name] = await freePort();
    const s = createHttpServer((req, res) => {
      res.setHeader("Server", `node-${name}`);
      res.setHeader("X-Powered-By", "node");
      res.setHeader("content-type", "text/plain");
      const h = req.headers;
      res.end(`${name} ${req.method} ${req.url} proto=${h["x-proto"]} debug=${h["x-debug"]} xff=${h["x-forwarded-for"]}\n`);
    });
    await listen(s as unknown as Server, ports[name], "127.0.0.1");
    servers.push(s as unknown as Server);
  }
  const cfg = `global
    maxconn 1000
defaults
    mode http
    option forwardfor
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend www
    bind 127.0.0.1:${front}
    acl host_shop     hdr(host) -i shop.example.com www.shop.example.com
    acl host_api      hdr(host) -i api.example.com
    acl host_api      hdr_end(host) -i .api.example.com
    acl is_static     path_beg /static/ /images/
    acl is_static     path_end .css .js
    acl is_admin      path_beg -i /admin
    acl office_net    src 127.0.0.0/29
    acl has_debug     urlp(debug) -m found
    acl is_post       method POST
    acl mobile        hdr(X-Client) -i mobile
    http-request deny deny_status 403 if is_admin !office_net
    http-request deny if has_debug !office_net
    http-request return status 200 content-type text/plain string "ok" if { path /healthz }
    http-request set-header X-Proto http
    http-request del-header X-Debug unless office_net
    http-response set-header X-Frame-Options DENY
    http-response del-header X-Powered-By
    use_backend static if is_static
    use_backend api    if host_api || { path_beg /api/ }
    use_backend admin  if is_admin office_net
    use_backend upload if is_post !host_shop
    use_backend api    if mobile { path_beg /m/ }
    default_backend shop
backend shop
    http-response del-header Server
    server s1 127.0.0.1:${ports.shop}
backend static
    server s1 127.0.0.1:${ports.static}
backend api
    server s1 127.0.0.1:${ports.api}
backend admin
    server s1 127.0.0.1:${ports.admin}
backend upload
    server s1 127.0.0.1:${ports.upload}
`;
  const requests: { method?: string; path: string; headers?: Record<string, string>; from?: string }[] = [
    { path: "/", headers: { host: "shop.example.com" } },
    { path: "/static/app.js" },
    { path: "/css/site.css" },
    { path: "/img/logo.CSS" },
    { path: "/api/v1/users?id=3" },
    { path: "/", headers: { host: "API.example.com" } },
    { path: "/", headers: { host: "eu.api.example.com" } },
    { path: "/", headers: { host: "api.example.community" } },
    { path: "/admin/", from: "127.0.0.2" },
    { path: "/ADMIN/users", from: "127.0.0.9" },
    { path: "/?debug=1", from: "127.0.0.9" },
    { path: "/?debug=1", headers: { "x-debug": "yes" }, from: "127.0.0.3" },
    { path: "/page", headers: { "x-debug": "yes" }, from: "127.0.0.20" },
    { path: "/healthz" },
    { method: "POST", path: "/form" },
    { method: "POST", path: "/form", headers: { host: "www.shop.example.com" } },
    { path: "/m/feed", headers: { "x-client": "Mobile" } },
    { path: "/m/feed" },
  ];
  const observe = async () => {
    const out: Answer[] = [];
    for (const r of requests) {
      const a = await get(front, r);
      // Only what the config decides: status, backend (first word), request and response headers.
      out.push({ status: a.status, body: a.status === 200 ? a.body : "", headers: a.headers });
    }
    return out;
  };
  const stopH = await runHaproxy(cfg, front);
  let viaHaproxy: Answer[];
  try {
    viaHaproxy = await observe();
  } finally {
    await stopH();
  }
  const stopT = await runTandem(cfg, front);
  let viaTandem: Answer[];
  try {
    viaTandem = await observe();
  } finally {
    await stopT();
  }
  requests.forEach((r, i) => {
    assert.deepEqual(viaTandem[i], viaHaproxy[i], `${r.method ?? "GET"} ${r.path} ${JSON.stringify(r.headers ?? {})} from ${r.from ?? "127.0.0.1"}`);
  });
  // The table is not trivially uniform: it exercised every backend and both denials.
  assert.deepEqual(new Set(viaHaproxy.map((a) => a.body.split(" ")[0] || String(a.status))), new Set([...names, "403", "ok"]));
});
