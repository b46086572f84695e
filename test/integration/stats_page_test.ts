// The stats page of the running binary: machine formats through real parsers, and the page in Debian's chromium.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AdminLab } from "../helpers/admin_lab.ts";
import { parseExposition, parseHaproxyCsv } from "../helpers/formats.ts";
import { isCi } from "./vrrp_lab.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const AUTH = { user: "ops", password: "s3cret:x" };
const lab = new AdminLab({ stats: `  auth: { user: ${AUTH.user}, password: "${AUTH.password}" }\n` });
const authHeader = { authorization: `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString("base64")}` };

const get = (path: string, headers: Record<string, string> = authHeader) => fetch(`http://127.0.0.1:${lab.statsPort}${path}`, { headers });
const post = (body: string, type = "application/json") => fetch(lab.statsUrl, { method: "POST", headers: { ...authHeader, "content-type": type }, body });

describe("stats page of dist/tandem", () => {
  before(async () => {
    await lab.start();
    // Up and checked at least once each.
    assert.ok(await lab.until(async () => (await lab.ctl("show", "servers")).out.split("\n").filter((l) => / UP .* L4OK /.test(l)).length === 2), "servers up");
  });
  after(() => lab.stop());

  it("every route needs basic auth when stats.auth is set", async () => {
    for (const path of ["/stats", "/stats;csv", "/stats;json", "/metrics"]) {
      const r = await get(path, {});
      assert.equal(r.status, 401, path);
      assert.match(r.headers.get("www-authenticate") ?? "", /^Basic realm="tandem stats"/);
    }
    const wrong = await get("/stats;json", { authorization: `Basic ${Buffer.from("ops:nope").toString("base64")}` });
    assert.equal(wrong.status, 401);
  });

  it(";csv parses as RFC 4180 with haproxy's columns", async () => {
    const r = await get("/stats;csv");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/csv/);
    const rows = parseHaproxyCsv(await r.text());
    assert.deepEqual(rows.map((x) => x.svname), ["FRONTEND", "s1", "s2", "BACKEND"]);
    for (const x of rows) assert.equal(x.pxname, "web");
    assert.deepEqual(rows.map((x) => x.type), ["0", "2", "2", "1"]);
    assert.equal(rows[1].weight, "2");
    assert.equal(rows[1].check_status, "L4OK");
    assert.match(rows[1].check_duration, /^\d+$/);
  });

  it("bytes in and out are counted for the frontend and its servers, and stay after the connection closes", async () => {
    const before = parseHaproxyCsv(await (await get("/stats;csv")).text());
    const { connect } = await import("node:net");
    await new Promise<void>((resolve, reject) => {
      const c = connect(lab.proxyPort, "127.0.0.1", () => c.write("0123456789"));
      c.on("data", () => c.end());
      c.on("close", () => resolve());
      c.on("error", reject);
    });
    // "s1:0123456789" or "s2:…" came back: 10 bytes in, 13 out, on the frontend and on one server.
    let rows = before;
    const fe = (rs: typeof rows) => rs.find((x) => x.svname === "FRONTEND")!;
    assert.ok(await lab.until(async () => {
      rows = parseHaproxyCsv(await (await get("/stats;csv")).text());
      return Number(fe(rows).bin) - Number(fe(before).bin) === 10;
    }), `frontend bin: ${fe(before).bin} → ${fe(rows).bin}`);
    assert.equal(Number(fe(rows).bout) - Number(fe(before).bout), 13);
    const server = (rs: typeof rows) => rs.filter((x) => x.type === "2").reduce((n, x) => n + Number(x.bin), 0);
    assert.equal(server(rows) - server(before), 10);
    const fams = parseExposition(await (await get("/metrics")).text());
    assert.equal(fams.get("tandem_frontend_bytes_in_total")?.samples[0].value, Number(fe(rows).bin));
    assert.equal(fams.get("tandem_frontend_bytes_out_total")?.samples[0].value, Number(fe(rows).bout));
  });

  it(";json is the snapshot the page renders", async () => {
    const r = await get("/stats;json");
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    const s = await r.json();
    assert.equal(s.info.name, "tandem");
    assert.equal(s.info.role, "master");
    assert.equal(s.info.admin, true);
    assert.equal(s.info.refresh, 1000);
    assert.deepEqual(s.backends[0].servers.map((v: { name: string; status: string }) => [v.name, v.status]), [["s1", "UP"], ["s2", "UP"]]);
    assert.equal(s.backends[0].servers[0].check.status, "L4OK");
  });

  it("/metrics parses as the Prometheus text format with typed, labelled families", async () => {
    const r = await get("/metrics");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const fams = parseExposition(await r.text());
    const want: Record<string, [string, string[]]> = {
      tandem_server_status: ["gauge", ["proxy", "server", "state"]],
      tandem_server_sessions_total: ["counter", ["proxy", "server"]],
      tandem_server_check_up: ["gauge", ["proxy", "server"]],
      tandem_server_check_duration_seconds: ["gauge", ["proxy", "server"]],
      tandem_server_checks_total: ["counter", ["proxy", "server"]],
      tandem_backend_up: ["gauge", ["proxy"]],
      tandem_frontend_sessions_total: ["counter", ["proxy"]],
      tandem_alert_rules_active: ["gauge", []],
      process_cpu_seconds_total: ["counter", []],
    };
    for (const [name, [type, labels]] of Object.entries(want)) {
      const f = fams.get(name);
      assert.ok(f, `${name} missing`);
      assert.equal(f.type, type, name);
      assert.ok(f.samples.length > 0, name);
      for (const s of f.samples) assert.deepEqual(Object.keys(s.labels).sort(), [...labels].sort(), name);
    }
    const up = fams.get("tandem_server_status")!.samples.filter((s) => s.labels.state === "UP" && s.value === 1);
    assert.deepEqual(up.map((s) => s.labels.server).sort(), ["s1", "s2"]);
    assert.ok(fams.get("tandem_server_checks_total")!.samples.every((s) => s.value >= 1));
  });

  it("actions are checked: JSON only, known actions, known servers", async () => {
    assert.equal((await post("action=drain&b=web&s=s1", "application/x-www-form-urlencoded")).status, 415);
    const unknown = await post(JSON.stringify({ action: "explode", proxy: "web", server: "s1" }));
    assert.equal(unknown.status, 400);
    assert.match((await unknown.json()).message, /Unknown action "explode"/);
    const missing = await post(JSON.stringify({ action: "drain", proxy: "web", server: "zz" }));
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).message, "No such server: web/zz");
    assert.equal((await post("{")).status, 400);
  });

  it("in chromium: the page loads, shows a server going DOWN when its backend dies, and a drain click takes effect", async (t) => {
    if (!existsSync(CHROMIUM)) {
      if (isCi()) assert.fail(`${CHROMIUM} is missing: apt-get install -y chromium`);
      return t.skip(`${CHROMIUM} is not installed`);
    }
    const { chromium } = await import("playwright-core");
    const profile = mkdtempSync(join(tmpdir(), "tandem-chromium-"));
    mkdirSync(ARTIFACTS, { recursive: true });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      httpCredentials: { username: AUTH.user, password: AUTH.password },
      viewport: { width: 1280, height: 900 },
    });
    const problems: string[] = [];
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(lab.statsUrl);
      const row = (name: string) => page.locator(`tr[data-server="web/${name}"]`);
      await row("s2").and(page.locator('[data-status="UP"]')).waitFor({ timeout: 5000 });
      assert.equal(await page.locator("header h1").textContent(), "tandem");
      assert.match((await row("s1").locator("td.status").textContent()) ?? "", /UP.*L4OK/);

      await lab.backends[1].stop();
      await row("s2").and(page.locator('[data-status="DOWN"]')).waitFor({ timeout: 6000 });
      assert.match((await row("s2").locator("td.status").textContent()) ?? "", /DOWN for \d+s.*L4CON connection refused/);
      await page.screenshot({ path: join(ARTIFACTS, "stats_page_down.png"), fullPage: true });

      await row("s1").locator('button[data-action="drain"]').click();
      await row("s1").and(page.locator('[data-status="DRAIN"]')).waitFor({ timeout: 5000 });
      assert.match((await page.locator("#toast").textContent()) ?? "", /web\/s1: drain/);
      assert.match((await lab.ctl("show", "servers")).out, /^web\/s1\s+\S+\s+DRAIN\s+0 /m);
      await page.screenshot({ path: join(ARTIFACTS, "stats_page.png"), fullPage: true });

      // A phone-sized viewport: rows become labelled cards, nothing scrolls sideways.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await row("s1").and(page.locator('[data-status="DRAIN"]')).waitFor({ timeout: 5000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than a phone screen`);
      await page.screenshot({ path: join(ARTIFACTS, "stats_page_phone.png"), fullPage: true });

      await row("s1").locator('button[data-action="ready"]').click();
      await row("s1").and(page.locator('[data-status="UP"]')).waitFor({ timeout: 5000 });
      assert.deepEqual(problems, [], "no console errors (CSP violations show up here)");
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      await lab.backends[1].start().catch(() => {});
    }
  });
});
