// haproxy's TLS keywords carried over: bind ssl crt/alpn/ciphers with ssl-default-bind-*, server ssl verify ca-file sni.

import { test } from "node:test";
import assert from "node:assert/strict";
import { bindTls, globalTls, serverTls } from "../../src/import/haproxy_tls.ts";
import type { HaTlsDefaults } from "../../src/import/haproxy_tls.ts";

const defaults = (): HaTlsDefaults => ({ bind: {}, server: {} });

test("global TLS settings become the defaults of every bind and server", () => {
  const d = defaults();
  assert.deepEqual(globalTls("crt-base", ["/etc/ssl/private"], d), []);
  assert.deepEqual(globalTls("ca-base", ["/etc/ssl/certs"], d), []);
  assert.deepEqual(globalTls("ssl-default-bind-ciphers", ["ECDHE+AESGCM"], d), []);
  assert.deepEqual(globalTls("ssl-default-bind-ciphersuites", ["TLS_AES_128_GCM_SHA256"], d), []);
  assert.deepEqual(globalTls("ssl-default-bind-options", ["no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12"], d), []);
  assert.match(globalTls("ssl-default-bind-options", ["prefer-client-ciphers"], d)![0].reason, /server's cipher order/);
  assert.equal(globalTls("maxconn", ["1"], d), undefined);
  const b = bindTls(["ssl", "crt", "site.pem", "crt", "/abs/dir/", "alpn", "h2,http/1.1"], d);
  assert.deepEqual(b.tls, { crt: ["/etc/ssl/private/site.pem", "/abs/dir/"], alpn: ["h2", "http/1.1"], min_version: "TLSv1.3", ciphers: "ECDHE+AESGCM", ciphersuites: "TLS_AES_128_GCM_SHA256" });
  assert.deepEqual(b.issues, []);
  const s = serverTls([["ssl"], ["verify", "required"], ["ca-file", "ca.pem"], ["sni", "str(app.test)"], ["check-ssl"]], d);
  assert.deepEqual(s.tls, { verify: "required", ca_file: "/etc/ssl/certs/ca.pem", sni: "app.test" });
});

test("what does not carry over says why", () => {
  assert.match(bindTls(["crt", "x.pem"], undefined).issues[0].reason, /crt without ssl/);
  assert.match(bindTls(["ssl", "crt", "x.pem", "crt-list", "l.txt"], undefined).issues[0].reason, /crt-list/);
  assert.match(bindTls(["ssl", "crt", "x.pem", "verify", "required"], undefined).issues[0].reason, /client certificates/);
  assert.match(bindTls(["ssl", "crt", "@store/x.pem"], undefined).issues[0].reason, /crt-store/);
  assert.match(serverTls([["ssl"], ["sni", "req.hdr(host)"]], undefined).issues[0].reason, /fixed server name/);
  assert.deepEqual(serverTls([["ssl"]], undefined).tls, true);
  assert.equal(serverTls([["verify", "none"]], undefined).tls, undefined);
});
