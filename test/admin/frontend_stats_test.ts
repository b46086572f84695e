// The stats page served on a frontend path: a `stats` rule asks the service the admin layer lends the proxy.

import assert from "node:assert/strict";
import { test } from "node:test";
import { frontendStats } from "../../src/admin/frontend_stats.ts";
import { ConditionCompiler } from "../../src/proxy/http/conditions.ts";
import { HeadParser } from "../../src/proxy/http/parser.ts";
import { LocalServices } from "../../src/proxy/http/request_env.ts";
import { applyRules, compileRequestRules } from "../../src/proxy/http/rules.ts";
import { envFor } from "../helpers/request_env.ts";
import { sampleSnapshot } from "./fixtures.ts";

const req = (line: string) => new HeadParser("request", { requestLine: 8192, headerBytes: 16384, headerCount: 100 }).push(Buffer.from(`${line} HTTP/1.1\r\nHost: a\r\n\r\n`))!;
const rules = compileRequestRules([{ action: "stats", uri: "/admin/stats", refresh: 30_000 }], new ConditionCompiler({}), "Frontend \"public\"");

test("paths under the uri get the page, ;csv and ;json; other paths go on", () => {
  const services = new LocalServices();
  services.set("stats", frontendStats(() => sampleSnapshot()));
  const env = { ...envFor(), services };
  const page = applyRules(rules, req("GET /admin/stats"), req("GET /admin/stats"), env)!;
  assert.equal(page.status, 200);
  assert.match(page.contentType!, /^text\/html/);
  assert.match(page.body!, /data-json="\/admin\/stats;json" data-refresh="30000"/);
  assert.ok(page.headers!.some(([k]) => k === "Content-Security-Policy"));
  const csv = applyRules(rules, req("GET /admin/stats;csv"), req("GET /admin/stats;csv"), env)!;
  assert.match(csv.body!, /^# pxname,svname,/);
  const json = applyRules(rules, req("GET /admin/stats;json"), req("GET /admin/stats;json"), env)!;
  assert.equal(JSON.parse(json.body!).info.hostname, "lb1");
  assert.equal(applyRules(rules, req("POST /admin/stats"), req("POST /admin/stats"), env)!.status, 405);
  assert.equal(applyRules(rules, req("GET /app"), req("GET /app"), env), undefined);
});

test("without the service (a proxy worker process) the path answers 503", () => {
  const r = applyRules(rules, req("GET /admin/stats"), req("GET /admin/stats"), envFor())!;
  assert.equal(r.status, 503);
});
