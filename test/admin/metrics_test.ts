import { test } from "node:test";
import assert from "node:assert/strict";
import { TandemMetrics } from "../../src/admin/metrics.ts";
import { parseExposition } from "../helpers/formats.ts";
import { sampleSnapshot } from "./fixtures.ts";

const value = (fams: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string>) =>
  fams.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

test("metrics parse as the exposition format with the expected names, types and labels", async () => {
  const m = new TandemMetrics({ defaultMetrics: false });
  const fams = parseExposition(await m.render(sampleSnapshot()));
  const types: Record<string, string> = {
    tandem_server_status: "gauge", tandem_server_sessions_total: "counter", tandem_server_bytes_in_total: "counter",
    tandem_server_check_duration_seconds: "gauge", tandem_server_check_failures_total: "counter", tandem_backend_up: "gauge",
    tandem_frontend_sessions_total: "counter", tandem_vrrp_state: "gauge", tandem_vrrp_priority: "gauge",
    tandem_vrrp_transitions_total: "counter", tandem_alert_spool_pending: "gauge", tandem_alert_delivered_total: "counter",
  };
  for (const [name, type] of Object.entries(types)) assert.equal(fams.get(name)?.type, type, name);
  assert.equal(value(fams, "tandem_server_status", { proxy: "web", server: "s2", state: "DOWN" }), 1);
  assert.equal(value(fams, "tandem_server_status", { proxy: "web", server: "s2", state: "UP" }), 0);
  assert.equal(value(fams, "tandem_server_check_duration_seconds", { server: "s2" }), 0.012);
  assert.equal(value(fams, "tandem_server_check_failures_total", { server: "s2" }), 9);
  assert.equal(value(fams, "tandem_server_bytes_out_total", { server: "s1" }), 80_000);
  assert.equal(value(fams, "tandem_vrrp_state", { instance: "VI_1", state: "master" }), 1);
  assert.equal(value(fams, "tandem_vrrp_state", { instance: "VI_1", state: "backup" }), 0);
  assert.equal(value(fams, "tandem_vrrp_transitions_total", { instance: "VI_1" }), 2);
  assert.equal(value(fams, "tandem_vrrp_adverts_dropped_total", { reason: "bad_auth" }), 1);
  assert.equal(value(fams, "tandem_alert_spool_pending", { notifier: "ops" }), 1);
  assert.equal(value(fams, "tandem_info", { role: "master", hostname: "lb1" }), 1);
  assert.equal(value(fams, "tandem_frontend_bytes_in_total", { proxy: "web" }), 4096);
  assert.equal(value(fams, "tandem_frontend_bytes_out_total", { proxy: "web" }), 65536);
});

test("back-to-back scrapes: a sample without a value is written NaN, as the text format spells it", async () => {
  const m = new TandemMetrics(); // with the runtime's default series: the event-loop lag has no sample yet
  for (let i = 0; i < 3; i++) {
    const text = await m.render(sampleSnapshot());
    assert.doesNotMatch(text, / Nan$/m);
    parseExposition(text); // throws on any value the format does not define
  }
});

test("a removed server's series disappear on the next scrape", async () => {
  const m = new TandemMetrics({ defaultMetrics: false });
  await m.render(sampleSnapshot());
  const snap = sampleSnapshot();
  snap.backends[0].servers.pop();
  const fams = parseExposition(await m.render(snap));
  assert.equal(fams.get("tandem_server_weight")?.samples.length, 1);
  assert.ok(!fams.get("tandem_server_status")?.samples.some((s) => s.labels.server === "s2"));
});

test("two instances keep separate registries (no global registry)", async () => {
  const a = new TandemMetrics({ defaultMetrics: false });
  const b = new TandemMetrics({ defaultMetrics: false });
  await a.render(sampleSnapshot());
  const fams = parseExposition(await b.render(sampleSnapshot({ vrrp: [] })));
  assert.equal(fams.has("tandem_vrrp_state"), false);
});

test("TLS series: handshakes, failures by reason, HTTP/2 connections, certificate expiry", async () => {
  const m = new TandemMetrics({ defaultMetrics: false });
  const tls = { handshakes: 12, failures: { timeout: 2, not_tls: 1 }, h2: 4, certificates: [{ name: "a.test", file: "/etc/t/a.pem", keyType: "ec", notAfter: "2027-01-01T00:00:00.000Z", expiresIn: 100 }] };
  const text = await m.render(sampleSnapshot({ tls }));
  assert.match(text, /^tandem_tls_handshakes_total 12$/m);
  assert.match(text, /^tandem_tls_handshake_failures_total\{reason="timeout"\} 2$/m);
  assert.match(text, /^tandem_tls_h2_connections_total 4$/m);
  assert.match(text, /^tandem_tls_certificate_expiry_timestamp_seconds\{name="a.test",file="\/etc\/t\/a.pem"\} 1798761600$/m);
});
