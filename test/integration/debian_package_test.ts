// The Debian package (scripts/package.ts) of this machine's binary: file list, control and
// conffiles, the packaged config passing --check, the unit accepted by systemd-analyze verify,
// lintian without errors, man pages without groff warnings, bash completion, installability.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDeb, dependsOf } from "../../scripts/package.ts";
import { hostTarget } from "../../scripts/targets.ts";
import { tandemBinary } from "../helpers/binary.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const ci = !["", "false", "0"].includes(process.env.CI ?? "");
const has = (cmd: string, args = ["--version"]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const isRoot = process.getuid?.() === 0;
// Each tool is a Debian package; under CI a missing one fails the test instead of skipping it.
const need = (cmd: string, pkg: string, args?: string[]) => (!ci && !has(cmd, args) ? `${cmd} is not installed (apt-get install ${pkg})` : false);

let dir: string;
let deb: string;
let tree: string;
/** The slow checks run while the others do (lintian takes ~20 s on a 110 MiB binary). */
let lintian: Promise<{ status: number | null; stdout: string; stderr: string }> | undefined;
let aptSimulate: Promise<{ status: number | null; stdout: string; stderr: string }> | undefined;

/** Runs a command to its end without blocking the tests meanwhile. */
function background(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => resolve({ status: null, stdout, stderr: stderr + err.message }));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tandem-deb-"));
  // gzip instead of npm run package's xz: the same package, built in a few seconds even when the
  // machine is busy (xz on the 110 MiB binary took 6 s idle, 23 s at load 5).
  deb = buildDeb(hostTarget(), tandemBinary(), dir, { compression: "gzip" });
  // Every lintian check but binaries/spelling: it only yields info tags, about the Node
  // runtime's strings, and takes ~40% of lintian's time on a 110 MiB binary.
  if (!need("lintian", "lintian")) lintian = background("lintian", ["--fail-on", "error", "--dont-check-part", "binaries/spelling", deb]);
  if (!need("apt-get", "apt")) aptSimulate = background("apt-get", ["install", "--simulate", "--no-install-recommends", deb]);
  tree = join(dir, "tree");
  execFileSync("dpkg-deb", ["-x", deb, tree]);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const field = (name: string) => execFileSync("dpkg-deb", ["-f", deb, name], { encoding: "utf8" }).trim();

test("name, control fields, conffiles and file list", () => {
  assert.equal(deb, join(dir, `tandem_${VERSION}_${hostTarget().debArch}.deb`));
  assert.equal(field("Package"), "tandem");
  assert.equal(field("Version"), VERSION);
  assert.equal(field("Architecture"), hostTarget().debArch);
  assert.match(field("Depends"), /^adduser, .*libc6 \(>= 2\.\d+\).*libstdc\+\+6 \(>= \d+\)/);
  const files = execFileSync("dpkg-deb", ["-c", deb], { encoding: "utf8" });
  for (const path of [
    "./usr/bin/tandem", "./lib/systemd/system/tandem.service", "./etc/tandem/tandem.yaml", "./etc/default/tandem",
    "./var/lib/tandem/", "./usr/share/man/man8/tandem.8.gz", "./usr/share/man/man5/tandem.yaml.5.gz",
    "./usr/share/bash-completion/completions/tandem", "./usr/share/doc/tandem/copyright", "./usr/share/doc/tandem/changelog.gz",
  ]) {
    assert.match(files, new RegExp(` ${path.replace(/[.+]/g, "\\$&")}\\n`), `${path} is not in the package`);
  }
  assert.match(files, /^-rwxr-xr-x root\/root .* \.\/usr\/bin\/tandem$/m);
  const control = join(dir, "control");
  execFileSync("dpkg-deb", ["-e", deb, control]);
  assert.equal(readFileSync(join(control, "conffiles"), "utf8"), "/etc/default/tandem\n/etc/tandem/tandem.yaml\n");
  for (const script of ["postinst", "prerm", "postrm"]) {
    assert.equal(spawnSync("sh", ["-n", join(control, script)]).status, 0, `${script} is not valid sh`);
  }
  // md5sums match the files.
  const sums = spawnSync("md5sum", ["--check", "--quiet", join(control, "md5sums")], { cwd: tree, encoding: "utf8" });
  assert.equal(sums.status, 0, sums.stdout + sums.stderr);
});

test("the packaged binary runs; /etc/tandem/tandem.yaml is the demo with system paths and passes --check", () => {
  const bin = join(tree, "usr/bin/tandem");
  assert.match(execFileSync(bin, ["--version"], { encoding: "utf8", env: {} }), new RegExp(`^tandem ${VERSION.replace(/\./g, "\\.")}\n$`));
  const config = readFileSync(join(tree, "etc/tandem/tandem.yaml"), "utf8");
  assert.match(config, /^# \/etc\/tandem\/tandem\.yaml/);
  assert.match(config, /^ {2}state_dir: \/var\/lib\/tandem /m);
  assert.match(config, /^ {2}admin_socket: \/run\/tandem\/tandem\.sock /m);
  assert.match(config, /^ {4}bind: 127\.0\.0\.1:8080$/m);
  const check = spawnSync(bin, ["--config", join(tree, "etc/tandem/tandem.yaml"), "--check", "--role", "master"], { encoding: "utf8", env: {} });
  assert.equal(check.status, 0, check.stderr);
  assert.match(readFileSync(join(tree, "etc/default/tandem"), "utf8"), /^TANDEM_ROLE=master$/m);
});

test("the unit: Type=notify, check before start and reload, SIGHUP reload, restart on failure, capabilities not root", () => {
  const unit = readFileSync(join(tree, "lib/systemd/system/tandem.service"), "utf8");
  for (const line of [
    "Type=notify",
    "ExecStartPre=/usr/bin/tandem --config /etc/tandem/tandem.yaml --check --role ${TANDEM_ROLE}",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "User=tandem",
    "StateDirectory=tandem",
    "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
    "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
  ]) assert.ok(unit.split("\n").includes(line), `missing: ${line}`);
});

test("systemd-analyze verify accepts the unit (its binary and man page mounted in place, in a private mount namespace)", { skip: (!isRoot && !ci && "needs root (a private mount namespace)") || need("systemd-analyze", "systemd") }, () => {
  // verify checks that ExecStart's program and Documentation's man page exist where the unit
  // says: overlay the package's /usr/bin and /usr/share/man on the real ones, for this process only.
  const script = `set -e
mount -t overlay overlay -o lowerdir="$1/usr/bin:/usr/bin" /usr/bin
mount -t overlay overlay -o lowerdir="$1/usr/share/man:/usr/share/man" /usr/share/man
systemd-analyze verify "$1/lib/systemd/system/tandem.service"`;
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", tree], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((r.stdout + r.stderr).trim(), "", "systemd-analyze verify printed warnings");
});

test("lintian: no errors (the overrides say why each overridden tag cannot be fixed)", { skip: need("lintian", "lintian") }, async () => {
  const r = await lintian!;
  const errors = r.stdout.split("\n").filter((l) => l.startsWith("E:"));
  assert.deepEqual(errors, []);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  if (r.stdout.trim()) console.log(`# lintian: ${r.stdout.trim().split("\n").join("; ")}`);
});

test("man pages render without groff warnings", { skip: need("man", "man-db", ["--version"]) }, () => {
  for (const page of ["man8/tandem.8.gz", "man5/tandem.yaml.5.gz"]) {
    const r = spawnSync("man", ["--warnings", "-l", "-Tutf8", join(tree, "usr/share/man", page)], { encoding: "utf8", env: { ...process.env, MANWIDTH: "80" } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", `${page}: ${r.stderr}`);
  }
  const tandem8 = spawnSync("man", ["-l", join(tree, "usr/share/man/man8/tandem.8.gz")], { encoding: "utf8", env: { ...process.env, MANWIDTH: "100" } }).stdout;
  for (const section of ["NAME", "SYNOPSIS", "OPTIONS", "DESCRIPTION", "SIGNALS", "EXIT CODES", "FILES"]) assert.match(tandem8, new RegExp(`^${section}$`, "m"));
  assert.match(tandem8, /--role ROLE/);
});

test("bash completion: options, roles from the config, ctl commands", { skip: need("bash", "bash-completion", ["-c", "test -r /usr/share/bash-completion/bash_completion"]) }, () => {
  const complete = (line: string) => {
    const script = `. /usr/share/bash-completion/bash_completion
. "$1"
COMP_LINE="$2"; COMP_POINT=\${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_tandem
printf '%s\\n' "\${COMPREPLY[@]}"`;
    return spawnSync("bash", ["-c", script, "bash", join(tree, "usr/share/bash-completion/completions/tandem"), line], { encoding: "utf8", cwd: ROOT }).stdout.trim().split("\n").sort();
  };
  assert.deepEqual(complete("tandem --ro"), ["--role"]);
  assert.deepEqual(complete("tandem --config test/fixtures/exchange.yaml --role "), ["backup", "master"]);
  assert.deepEqual(complete("tandem --log-level "), ["debug", "error", "info", "warn"]);
  assert.deepEqual(complete("tandem ctl show "), ["info", "servers", "stat", "table", "vrrp"]);
  assert.deepEqual(complete("tandem ctl --config x.yaml set server web/app1 state "), ["drain", "maint", "ready"]);
  assert.deepEqual(complete("tandem c"), ["ctl"]);
});

test("apt accepts the package for installation (dependencies resolve)", { skip: need("apt-get", "apt") }, async () => {
  const r = await aptSimulate!;
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Inst tandem /m);
});

test("Depends of the arm64 binary, when it was built", { skip: !existsSync(join(ROOT, "dist/tandem-linux-arm64")) && "dist/tandem-linux-arm64 not built" }, () => {
  const deps = dependsOf(join(ROOT, "dist/tandem-linux-arm64"));
  assert.ok(deps.some((d) => /^libc6 \(>= 2\.\d+\)$/.test(d)), deps.join(", "));
  assert.ok(deps.includes("libgcc-s1") && deps.some((d) => d.startsWith("libstdc++6")), deps.join(", "));
});
