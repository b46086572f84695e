// `tandem import` on the 25 real haproxy.cfg and keepalived.conf files of ../shared/realworld: the
// contract (exit 0 ⇒ `tandem --check` passes for both roles and nothing that protects traffic or
// decides where it goes was lost), each file's expected outcome, and the VRRP values of each
// keepalived.conf. Read from TANDEM_REALWORLD (default ../shared/realworld), never copied here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { importExit, IMPORT_EXIT } from "../../src/cli/import.ts";
import { importConfigs } from "../../src/import/import_configs.ts";
import type { ImportResult } from "../../src/import/import_configs.ts";
import { formatNote } from "../../src/import/notes.ts";
import { loadConfigText } from "../../src/tandem_config.ts";
import { makeCa, makeLeaf } from "../helpers/certs.ts";

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const REALWORLD = process.env.TANDEM_REALWORLD ?? resolve(REPO, "../shared/realworld");
const skip = existsSync(REALWORLD) ? false : `no real-world configs at ${REALWORLD}`;
const files = skip ? [] : readdirSync(REALWORLD).filter((f) => /\.(cfg|conf)$/.test(f)).sort();

function imp(file: string, text?: string, exists?: (p: string) => boolean): ImportResult & { exit: number } {
  const src = { path: file, text: text ?? readFileSync(join(REALWORLD, file), "utf8") };
  const r = importConfigs({ ...(file.endsWith(".cfg") ? { haproxy: src } : { keepalived: src }), read: () => undefined, ...(exists ? { exists } : {}) });
  return { ...r, exit: importExit(r) };
}

const errorsOf = (yaml: string, role: "master" | "backup") => loadConfigText(yaml, "tandem.yaml", role, {}).diagnostics.filter((d) => d.severity === "error");

/** What each file gives: its exit code, and for refusals the lines refused. */
const EXPECTED: Record<string, { exit: number; refused?: number[] }> = {
  "haproxy-7layer.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-basic-auth-vumdao.cfg": { exit: IMPORT_EXIT.missingFiles },
  "haproxy-content-sw-sample.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-couchdb-minihosting.cfg": { exit: IMPORT_EXIT.missingFiles },
  "haproxy-fedora-cloud.cfg": { exit: IMPORT_EXIT.missingFiles },
  "haproxy-kazoo.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-kubeadm-multimaster.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-moodle-moot15.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-nextcloud-88nex.cfg": { exit: IMPORT_EXIT.missingFiles },
  // crt-store (haproxy 3.0) holds the certificate and its key in two files: the TLS listener cannot be carried.
  "haproxy-openculinary.cfg": { exit: IMPORT_EXIT.refused, refused: [24] },
  "haproxy-patroni-bivdc.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-rancher-lookingspiffy.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-ratelimit-lxgzmy.cfg": { exit: IMPORT_EXIT.ok },
  "haproxy-rhel-default-dmz.cfg": { exit: IMPORT_EXIT.ok },
  // SSL/SSH multiplexing on one port: tcp-request content inspection, and a server without address.
  "haproxy-sslmux-j0057.cfg": { exit: IMPORT_EXIT.refused, refused: [19, 20, 21] },
  "keepalived-7layer.conf": { exit: IMPORT_EXIT.ok },
  // No virtual_ipaddress: keepalived runs the pair for its notify scripts (an AWS Elastic IP).
  "keepalived-aws-elb-backup.conf": { exit: IMPORT_EXIT.contradiction },
  "keepalived-aws-elb-master.conf": { exit: IMPORT_EXIT.contradiction },
  "keepalived-kubeadm-multimaster.conf": { exit: IMPORT_EXIT.ok },
  "keepalived-nextcloud-88nex.conf": { exit: IMPORT_EXIT.ok },
  // LVS virtual_server: UDP balancing tandem does not do.
  "keepalived-opensips-lvs.conf": { exit: IMPORT_EXIT.refused, refused: [22] },
  "keepalived-patroni-bivdc.conf": { exit: IMPORT_EXIT.ok },
  // VIP_ADDRESS: an Ansible placeholder left in the file.
  "keepalived-rancher-lookingspiffy.conf": { exit: IMPORT_EXIT.contradiction },
  // static_routes and virtual_routes move traffic with the VIP.
  "keepalived-track-interface-sample.conf": { exit: IMPORT_EXIT.refused, refused: [8, 29] },
  // 25 excluded VIPs (virtual_ipaddress_excluded) would float no more.
  "keepalived-zillow-gateway.conf": { exit: IMPORT_EXIT.refused, refused: [47] },
};

test("every real-world file has an expected outcome", { skip }, () => {
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const file of files) {
  test(`${file}: the import's outcome, and exit 0 means --check passes for both roles`, { skip }, () => {
    const r = imp(file);
    const want = EXPECTED[file];
    assert.equal(r.exit, want.exit, r.notes.filter((n) => n.kind !== "info").map(formatNote).join("\n"));
    const refused = r.notes.filter((n) => n.kind === "refused");
    assert.deepEqual([...new Set(refused.map((n) => n.line))], want.refused ?? []);
    for (const n of refused) assert.match(formatNote(n), new RegExp(`^${file.replace(/\./g, "\\.")}:\\d+: refused: .+: .+ \\((security would be weakened|requests would go elsewhere|requests or responses would arrive changed)\\)$`));
    if (r.exit === IMPORT_EXIT.ok) {
      for (const role of ["master", "backup"] as const) assert.deepEqual(errorsOf(r.yaml, role).map((d) => `${d.line}: ${d.message}`), [], `${file} as ${role}`);
    }
    if (r.exit === IMPORT_EXIT.missingFiles) {
      // Only the certificates missing on this host stop --check.
      const names = r.missing.map((f) => f.path);
      for (const role of ["master", "backup"] as const) {
        for (const d of errorsOf(r.yaml, role)) assert.ok(names.some((p) => d.message.includes(p)), `${file} as ${role}: ${d.message}`);
      }
    }
  });
}

test("what haproxy enforced is carried or refused, never dropped with exit 0: TLS, auth, rate limits, https redirects", { skip }, () => {
  for (const file of files.filter((f) => f.endsWith(".cfg"))) {
    const text = readFileSync(join(REALWORLD, file), "utf8");
    const r = imp(file);
    if (r.exit === IMPORT_EXIT.refused) continue;
    const yaml = r.yaml;
    const ssl = (text.match(/^\s*bind\s.*\sssl\s/gm) ?? []).length;
    const sections = r.data as Record<string, Record<string, { bind?: unknown }> | undefined>;
    const binds = [...Object.values(sections.frontends ?? {}), ...Object.values(sections.proxies ?? {})].flatMap((f) => (Array.isArray(f.bind) ? f.bind : [f.bind]));
    assert.equal(binds.filter((b) => typeof b === "object" && b !== null && "tls" in b).length, ssl, `${file}: every ssl bind is a tls bind`);
    if (/http-request auth/.test(text)) assert.match(yaml, /action: auth/, `${file}: auth`);
    if (/track-sc0/.test(text)) assert.match(yaml, /counters: /, `${file}: rate limit`);
    if (/redirect scheme https/.test(text)) assert.match(yaml, /action: redirect, scheme: https/, `${file}: https redirect`);
    if (/hdr\(host\)/.test(text)) assert.doesNotMatch(yaml, /\{ host: /, `${file}: hdr(host) is not host: (which ignores the port)`);
    // `stats refresh 30` is seconds in haproxy (a bare number elsewhere is milliseconds).
    const refresh = /stats refresh (\d+)\s*$/m.exec(text);
    if (refresh) assert.match(yaml, new RegExp(`refresh: ${refresh[1]}s`), `${file}: stats refresh`);
    // "$COUCHDB_PATH": haproxy expands it; tandem's loader does the same with "${COUCHDB_PATH}".
    if (/"\$[A-Z_]+"/.test(text)) assert.match(yaml, /path_prefix: "\$\{COUCHDB_PATH\}"/, `${file}: environment variables stay references`);
  }
});

test("the TLS files import with TLS; where their certificates exist, --check passes for both roles", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-rw-"));
  try {
    const cert = makeLeaf(makeCa("rw CA", dir), join(dir, "site.pem"), { names: ["lab.example"] });
    for (const file of ["haproxy-basic-auth-vumdao.cfg", "haproxy-couchdb-minihosting.cfg", "haproxy-fedora-cloud.cfg", "haproxy-nextcloud-88nex.cfg"]) {
      const r = imp(file);
      assert.ok(r.missing.length > 0 && r.missing.every((f) => f.what === "certificate"), file);
      // The certificate paths are written as they are in the file...
      for (const f of r.missing) assert.ok(r.yaml.includes(f.path), `${file}: ${f.path}`);
      // ...and where those files exist, the same config passes --check.
      let yaml = r.yaml;
      for (const f of r.missing) yaml = yaml.replaceAll(f.path, cert);
      writeFileSync(join(dir, "t.yaml"), yaml);
      for (const role of ["master", "backup"] as const) assert.deepEqual(errorsOf(yaml, role).map((d) => d.message), [], `${file} as ${role}`);
      // On a host where the certificates are, the import itself exits 0.
      let text = readFileSync(join(REALWORLD, file), "utf8");
      for (const f of r.missing) text = text.replaceAll(f.path, cert);
      const there = imp(file, text);
      assert.equal(there.exit, IMPORT_EXIT.ok, `${file}: ${there.notes.filter((n) => n.kind === "error" || n.kind === "refused").map(formatNote).join("; ")}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("keepalived files: instance, VIP, priorities and tracking as keepalived ran them", { skip }, () => {
  const vrrp = (file: string) => imp(file).data.vrrp as Record<string, unknown>;
  const want: Record<string, { vrid: number; vips: unknown[]; master?: number; backup?: number; track?: unknown }> = {
    "keepalived-7layer.conf": { vrid: 51, vips: ["192.168.1.210"], master: 101, backup: 51, track: { proxy: { weight: 0, min_servers: 0 } } },
    "keepalived-kubeadm-multimaster.conf": { vrid: 51, vips: ["10.138.0.100"], master: 101, backup: 51, track: { proxy: { weight: 0, min_servers: 0 } } },
    "keepalived-nextcloud-88nex.conf": { vrid: 51, vips: ["10.0.0.30"], master: 150, backup: 100, track: { proxy: { weight: 0, min_servers: 0 } } },
    "keepalived-patroni-bivdc.conf": { vrid: 67, vips: ["10.119.77.240/22"], master: 150, backup: 100, track: { proxy: { weight: 0, min_servers: 0 } } },
    "keepalived-rancher-lookingspiffy.conf": { vrid: 1, vips: [], master: 150, backup: 100, track: { scripts: { check_apiserver: { command: "/etc/keepalived/check_apiserver.sh", interval: "3s", timeout: "10s", rise: 2, fall: 5, weight: -2 } } } },
  };
  for (const [file, w] of Object.entries(want)) {
    const v = vrrp(file);
    assert.equal(v.virtual_router_id, w.vrid, file);
    assert.deepEqual(v.virtual_ips, w.vips, file);
    const roles = v.roles as Record<string, { priority: number }>;
    assert.equal(roles.master.priority, w.master, file);
    assert.equal(roles.backup.priority, w.backup, file);
    assert.deepEqual(v.track, w.track, file);
  }
  // The pair: each file is one host; chk_haproxy without weight means FAULT while haproxy is down.
  const pair = importConfigs({ keepalived: src("keepalived-aws-elb-master.conf"), keepalivedBackup: src("keepalived-aws-elb-backup.conf"), read: () => undefined });
  const v = pair.data.vrrp as Record<string, unknown>;
  assert.deepEqual(v.roles, { master: { priority: 101, unicast_src: "10.0.1.10", unicast_peers: ["10.0.1.11"] }, backup: { priority: 100, unicast_src: "10.0.1.11", unicast_peers: ["10.0.1.10"] } });
  assert.deepEqual(v.track, { proxy: { weight: 0, min_servers: 0 } });
  assert.match(pair.notes.map(formatNote).join("\n"), /has no virtual_ipaddress: keepalived runs it for its notify scripts alone/);
  // Two instances in a sync group, as keepalived ran them (refused for the excluded VIPs only).
  const z = imp("keepalived-zillow-gateway.conf").data.vrrp as { instances: Record<string, { virtual_router_id: number; virtual_ips: string[]; roles: unknown }>; sync_groups: unknown };
  assert.deepEqual(Object.keys(z.instances), ["pub_a", "pvt_a"]);
  assert.deepEqual([z.instances.pub_a.virtual_router_id, z.instances.pub_a.virtual_ips], [61, ["192.168.43.5/24"]]);
  assert.deepEqual([z.instances.pvt_a.virtual_router_id, z.instances.pvt_a.virtual_ips], [62, ["172.16.57.7/24"]]);
  assert.deepEqual(z.instances.pvt_a.roles, { master: { priority: 200 }, backup: { priority: 150, preempt_delay: "5s" } });
  assert.deepEqual(z.sync_groups, { G1: ["pub_a", "pvt_a"] });
  const placeholder = imp("keepalived-rancher-lookingspiffy.conf");
  assert.match(placeholder.notes.map(formatNote).join("\n"), /:22: error: virtual_ipaddress "VIP_ADDRESS" is not an IP address \(a template placeholder\?\)/);
});

function src(file: string) {
  return { path: file, text: readFileSync(join(REALWORLD, file), "utf8") };
}
