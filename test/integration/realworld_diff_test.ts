// Differential test against haproxy itself: each real haproxy.cfg of ../shared/realworld (and a
// few of our own) runs under haproxy (Debian package) and, imported, under the built binary, with
// addresses and ports rewritten to loopback (test/helpers/haproxy_lab.ts). The same requests go
// to both; which backend (or server) answered, the status, the response fields that matter and
// the request each server received are compared. At least 95 % must agree, and every difference
// must be one docs/migration.md lists (KNOWN below), so a new one fails.
// TANDEM_DIFF_LONG=1 adds what takes long: health checks that must fail first, tarpits.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeCa, makeLeaf } from "../helpers/certs.ts";
import { differences, HAPROXY, importLab, recorder, rewrite, send, startHaproxy, startTandem, stopAll } from "../helpers/haproxy_lab.ts";
import type { LabRequest, Outcome, Received, Reply, Rewritten } from "../helpers/haproxy_lab.ts";
import { listen } from "../helpers/net.ts";
import { SCENARIOS } from "./realworld_scenarios.ts";
import type { Scenario } from "./realworld_scenarios.ts";

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const REALWORLD = process.env.TANDEM_REALWORLD ?? resolve(REPO, "../shared/realworld");
const LONG = process.env.TANDEM_DIFF_LONG === "1";
const skip = !HAPROXY ? "haproxy is not installed (apt-get install haproxy)" : !existsSync(REALWORLD) ? `no real-world configs at ${REALWORLD}` : false;

/**
 * Differences that remain, as "file: request: difference" prefixes, each explained in
 * docs/migration.md ("Where tandem still differs from haproxy").
 */
const KNOWN: string[] = [
  // The stats section is tandem's own page on its own address: it is sent with `Cache-Control:
  // no-store` (haproxy: no-cache) and its realm is "tandem stats" (haproxy: `stats realm`).
  'haproxy-kazoo.cfg: GET http127.0.0.1:22002/: response cache-control: "no-cache" → "no-store"',
  'haproxy-kubeadm-multimaster.cfg: GET http*:8085/: response cache-control: "no-cache" → "no-store"',
  'haproxy-patroni-bivdc.cfg: GET http*:7000/: response cache-control: "no-cache" → "no-store"',
  'haproxy-rancher-lookingspiffy.cfg: GET http*:1936/stats: response cache-control: "no-cache" → "no-store"',
  'haproxy-rancher-lookingspiffy.cfg: GET http*:1936/stats: response www-authenticate: "Basic realm=\\"Haproxy Statistic\\"" → "Basic realm=\\"tandem stats\\", charset=\\"UTF-8\\""',
  'haproxy-rancher-lookingspiffy.cfg: GET http*:1936/stats [Authorization: Basic YWRtaW46PEFETUlOX1BXRD4=]: response cache-control: "no-cache" → "no-store"',
];

let dir: string;
let cert: string;
const results: { file: string; request: string; diffs: string[] }[] = [];

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "tandem-diff-"));
  const ca = makeCa("tandem diff CA", dir);
  cert = makeLeaf(ca, join(dir, "site.pem"), { names: ["lab.example", "haproxy-report.cloudopz.co", "localhost"] });
});

after(async () => {
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a recorder for every server line; returns them to close. Check ports (`port N`) answer
 * like Patroni's REST API: /leader is 200 on the first server of a section only, /replica on the others.
 */
async function recorders(lab: Rewritten, reply: Reply): Promise<Server[]> {
  const out: Server[] = [];
  try {
    for (const s of lab.servers) {
      const r = recorder(`${s.section}/${s.name}`, reply);
      out.push(r);
      await listen(r, s.port);
      if (s.checkPort !== undefined) {
        const first = lab.servers.find((x) => x.section === s.section) === s;
        const c = recorder(`check ${s.section}/${s.name}`, (path) => ({ status: path === "/leader" ? (first ? 200 : 503) : path === "/replica" ? (first ? 503 : 200) : 200 }));
        out.push(c);
        await listen(c, s.checkPort);
      }
    }
  } catch (err) {
    closeAll(out);
    throw err;
  }
  return out;
}

/** Closes recorders and the connections still open to them (so the test process can end). */
function closeAll(servers: Server[]): void {
  for (const r of servers) {
    r.close();
    (r as Server & { closeConnections?: () => void }).closeConnections?.();
  }
}

/** A port taken between choosing it and using it (other test suites share the machine): try again with new ones. */
const portRace = (err: unknown) => /EADDRINUSE|nothing accepts on port|Address already in use|cannot bind socket/i.test(String((err as Error)?.message ?? err) + String((err as NodeJS.ErrnoException)?.code ?? ""));

/** The requests of a scenario, repeats spread out, each with the text that names it. */
function expand(requests: LabRequest[]): { label: string; r: LabRequest }[] {
  const out: { label: string; r: LabRequest }[] = [];
  for (const r of requests) {
    const n = r.repeat ?? 1;
    for (let i = 0; i < n; i++) out.push({ label: `${r.tcp ? "tcp" : r.method ?? "GET"} ${r.tls ? "https" : r.tcp ? "" : "http"}${r.to}${r.path ?? ""}${r.headers?.length ? ` [${r.headers.join("; ")}]` : ""}${r.from ? ` from ${r.from}` : ""}${n > 1 ? ` #${i + 1}` : ""}`, r });
  }
  return out;
}

async function run(lab: Rewritten, requests: { label: string; r: LabRequest }[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const { r } of requests) out.push(await send(lab, r));
  return out;
}

async function compare(s: Scenario): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await compareOnce(s);
    } catch (err) {
      if (attempt >= 3 || !portRace(err)) throw err;
    }
  }
}

async function compareOnce(s: Scenario): Promise<void> {
  const text = s.text ?? readFileSync(join(REALWORLD, s.file), "utf8");
  const work = mkdtempSync(join(dir, "run-"));
  const lab = await rewrite(text, { dir: work, cert });
  const { yaml, notes } = importLab(lab.text);
  const refused = notes.filter((n) => n.kind === "refused" || n.kind === "error");
  assert.deepEqual(refused.map((n) => `${n.line}: ${n.directive ?? ""} ${n.message}`), [], `${s.file} imports without refusals`);
  const requests = expand(s.requests.filter((r) => LONG || !("long" in r && r.long)));
  const env = { ...(s.env ?? {}) };
  const servers = await recorders(lab, s.reply ?? (() => undefined));
  let viaHaproxy: Outcome[] = [];
  let viaTandem: Outcome[] = [];
  try {
    const stopH = await startHaproxy(lab, work, env);
    try {
      if (s.settle && LONG) await new Promise((r) => setTimeout(r, s.settle));
      viaHaproxy = await run(lab, requests);
    } finally {
      await stopH();
    }
    const stopT = await startTandem(lab, yaml, work, env);
    try {
      if (s.settle && LONG) await new Promise((r) => setTimeout(r, s.settle));
      viaTandem = await run(lab, requests);
    } finally {
      await stopT();
    }
  } finally {
    closeAll(servers);
  }
  requests.forEach(({ label }, i) => results.push({ file: s.file, request: label, diffs: differences(viaHaproxy[i], viaTandem[i]) }));
  if (process.env.TANDEM_DIFF_DUMP) for (const [i, { label }] of requests.entries()) process.stderr.write(`${label}\n  haproxy ${JSON.stringify(viaHaproxy[i])}\n  tandem  ${JSON.stringify(viaTandem[i])}\n`);
  // Where haproxy answered at all, tandem answered the same way for the basics.
  for (const [i, { label }] of requests.entries()) {
    assert.ok(!viaHaproxy[i].origin.startsWith("error"), `${s.file}: haproxy answered ${label}: ${viaHaproxy[i].origin}`);
  }
}

// TANDEM_DIFF_ONLY=kazoo runs the scenarios whose file name contains it.
for (const s of SCENARIOS.filter((x) => x.file.includes(process.env.TANDEM_DIFF_ONLY ?? ""))) {
  test(`${s.file}: the same requests get the same answers from haproxy and from tandem`, { skip, timeout: 60_000 }, async () => {
    await compare(s);
  });
}

test("agreement with haproxy is at least 95 %, and every difference is a known one", { skip }, () => {
  const total = results.length;
  const agreeing = results.filter((r) => r.diffs.length === 0).length;
  const unknown: string[] = [];
  for (const r of results) {
    for (const d of r.diffs) {
      const line = `${r.file}: ${r.request}: ${d}`;
      if (!KNOWN.some((k) => line.startsWith(k))) unknown.push(line);
    }
  }
  const report = results.filter((r) => r.diffs.length).map((r) => `${r.file}: ${r.request}\n    ${r.diffs.join("\n    ")}`).join("\n");
  process.stderr.write(`realworld differential: ${agreeing}/${total} requests agree (${((100 * agreeing) / Math.max(1, total)).toFixed(1)} %)\n${report}\n`);
  assert.ok(total > 0);
  assert.deepEqual(unknown, [], "differences not listed in docs/migration.md");
  assert.ok(agreeing / total >= 0.95, `${agreeing}/${total} agree`);
});

export type { Received };
