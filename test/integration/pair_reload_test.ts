// `tandem ctl reload --pair` with two built binaries: both validate, the backup reloads first and
// is healthy before the master; a broken file or a failed reload on the backup stops the rollout
// before the master, saying where.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { canRunLab, NODE, type Lab, type LbProcess } from "./vrrp_lab.ts";
import { ctl, poll, startPair, usePairLab, writeFiles } from "./pair_lab.ts";

const skip = !canRunLab() && "needs root for network namespaces";
let lab: Lab;

usePairLab(skip, (l) => (lab = l));

const reloads = (p: LbProcess) => p.events.filter((e) => e.event === "config.reloaded").length;

test("staged reload: the backup first, healthy, then the master; both run the new file", { skip, timeout: 60_000 }, async () => {
  const files = writeFiles(lab);
  const { a, b } = await startPair(lab, files);
  // lb1 knows lb2 is BACKUP (its state follows each change within ~50 ms).
  assert.ok((await poll(async () => /^Vrrp: VI_1 VRID 51 BACKUP/m.test((await ctl(lab, "lb1", "show", "peer")).out), 3000)) >= 0);
  for (const f of files) writeFileSync(f, readFileSync(f, "utf8").replace("connect: 500ms", "connect: 600ms"));
  const r = await ctl(lab, "lb1", "reload", "--pair");
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  assert.match(r.out, /^validate \S+ \(master\): ok$/m);
  assert.match(r.out, /^validate \S+ \(backup\): ok$/m);
  assert.match(r.out, /^order: \S+ \(backup\) first \(it does not hold the VIP\), then \S+ \(master\)$/m);
  assert.match(r.out, /^reload \S+ \(backup\): applied, healthy after [\d.]+s: /m);
  assert.match(r.out, /^done: both hosts run configuration \w{12}$/m);
  assert.deepEqual([reloads(a), reloads(b)], [1, 1]);
  const at = (p: LbProcess) => p.lines.find((l) => l.includes('"msg":"config.reloaded"'))!;
  assert.ok(JSON.parse(at(b)).time <= JSON.parse(at(a)).time, "the backup reloaded after the master");
  console.log(r.out.trimEnd().replace(/^/gm, "# "));
});

test("staged reload: a broken file on the backup stops before anything is reloaded", { skip, timeout: 60_000 }, async () => {
  const files = writeFiles(lab);
  const { a, b } = await startPair(lab, files);
  writeFileSync(files[0], readFileSync(files[0], "utf8").replace("connect: 500ms", "connect: 600ms"));
  writeFileSync(files[1], readFileSync(files[1], "utf8").replace("connect: 500ms", "conect: 600ms"));
  const r = await ctl(lab, "lb1", "reload", "--pair");
  assert.equal(r.code, 3);
  assert.match(r.err, /validate \S+ \(backup\): 1 error\(s\)\n.*lb2-tandem\.yaml:\d+:\d+: error: .*conect/);
  assert.match(r.err, /stopped: the file does not validate on \S+ \(backup\); nothing was reloaded/);
  assert.deepEqual([reloads(a), reloads(b)], [0, 0]);
});

test("staged reload: a reload that fails on the backup (a port taken there) stops before the master", { skip, timeout: 60_000 }, async () => {
  const files = writeFiles(lab);
  const { a, b } = await startPair(lab, files);
  // Something else holds port 8095 on lb2 only: the new file validates on both, but lb2 cannot bind it.
  const squatter = lab.spawn("lb2", [NODE, "-e", `require("node:net").createServer().listen(8095,"0.0.0.0",()=>console.log("listening"))`]);
  await new Promise((r) => setTimeout(r, 300));
  const extra = "  extra:\n    mode: tcp\n    bind: 0.0.0.0:8095\n    servers:\n      s1: { address: 192.0.2.21, port: 8081 }\n";
  for (const f of files) writeFileSync(f, readFileSync(f, "utf8").replace("proxies:\n", `proxies:\n${extra}`));
  const r = await ctl(lab, "lb1", "reload", "--pair");
  assert.equal(r.code, 3, r.out);
  assert.match(r.err, /reload failed on \S+ \(backup\):\n\s+proxy: Cannot bind "extra" on 0\.0\.0\.0:8095: address already in use/);
  assert.match(r.err, /\S+ \(master\) was not reloaded and keeps its running configuration/);
  assert.equal(reloads(a), 0, "the master reloaded");
  assert.ok(b.events.some((e) => e.event === "config.reload_failed"));
  squatter.child.kill("SIGKILL");
});
