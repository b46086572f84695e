// `npm run build [-- --target linux-x64,linux-arm64]`: esbuild bundle → Node SEA per architecture.
// This machine's own target (the default) is dist/tandem; any other is dist/tandem-<target>. A
// binary whose inputs (bundle, Node version, target) did not change is kept as it is.

import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildUi } from "./build_ui.ts";
import { crossNode, hostTarget, runner, target, type Target } from "./targets.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

function step(what: string): void {
  process.stdout.write(`build: ${what}\n`);
}

async function bundle(): Promise<string> {
  step("esbuild bundle");
  const out = join(dist, "tandem.cjs");
  const result = await build({
    metafile: true,
    entryPoints: [join(root, "scripts/sea_entry.cjs")],
    bundle: true,
    platform: "node",
    target: "node26",
    format: "cjs",
    outfile: out,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
    // import.meta.url only reaches development-only paths in the bundle; give it a harmless value.
    define: { "import.meta.url": "__tandem_url" },
    banner: { js: 'var __tandem_url = require("node:url").pathToFileURL(process.execPath).href;' },
  });
  // Which npm packages went into the binary: the Debian package lists them with their licenses.
  writeFileSync(join(dist, "tandem.meta.json"), JSON.stringify(result.metafile));
  return out;
}

/** A stripped copy of the target's Node binary: the SEA is this binary plus the blob. */
function strippedNode(t: Target): string {
  const source = t.arch === process.arch ? process.execPath : crossNode(t, join(dist, "cache"));
  const copy = join(dist, `.node-base-${t.name}`);
  copyFileSync(source, copy);
  chmodSync(copy, 0o755);
  try {
    execFileSync(t.strip, [copy], { stdio: "ignore" });
  } catch {
    step(`${t.strip} not available: using the unstripped Node binary for ${t.name}`);
  }
  return copy;
}

/** Node options baked into the executable (every process of it, workers included). */
const SEA_EXEC_ARGV = ["--max-semi-space-size=4"];

/**
 * Builds one executable for t at `final`. The blob's V8 code cache is only valid on the machine
 * kind that made it, so a cross target's blob carries none (it compiles at start instead).
 */
function buildSea(t: Target, bundlePath: string, final: string): void {
  const base = strippedNode(t);
  // Built beside the old binary and renamed over it: a running one (a test, a demo) keeps its
  // file, and nobody ever sees a missing or half-written one.
  const output = `${final}.new`;
  rmSync(output, { force: true });
  const seaConfig = join(dist, `sea-${t.name}.json`);
  const native = t.arch === process.arch;
  writeFileSync(seaConfig, JSON.stringify({
    main: bundlePath,
    output,
    executable: base,
    disableExperimentalSEAWarning: true,
    useCodeCache: native,
    // V8's young generation capped at 4 MiB per semi-space (default 16): at 9,000 idle proxied
    // connections RSS 84 instead of 92–100 MiB, with tcp and http throughput unchanged within
    // noise (docs/performance.md). NODE_OPTIONS still applies on top.
    execArgv: SEA_EXEC_ARGV,
  }));
  step(`node --build-sea for ${t.name}${native ? "" : " (no code cache: cross target)"}`);
  execFileSync(process.execPath, ["--build-sea", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
  rmSync(base, { force: true });
  const [cmd, ...args] = runner(t, output);
  let version = "not run (no emulator)";
  try {
    version = `"${execFileSync(cmd, [...args, "--version"], { env: {} }).toString().trim()}"`;
  } catch (err) {
    if (native) throw err;
    step(`cannot run the ${t.name} binary here (${cmd}: ${(err as Error).message.split("\n")[0]})`);
  }
  renameSync(output, final);
  const mb = (statSync(final).size / 1024 / 1024).toFixed(1);
  step(`${final.slice(root.length + 1)}: ${mb} MiB, ${version}`);
}

/** The path of t's binary: dist/tandem for this machine, dist/tandem-<target> for another. */
export function binaryPath(t: Target): string {
  return t.arch === process.arch ? join(dist, "tandem") : join(dist, `tandem-${t.name}`);
}

/** What a binary is made of: when this is unchanged, so is the binary. */
function inputsOf(t: Target, bundlePath: string): string {
  const hash = createHash("sha256").update(readFileSync(bundlePath)).digest("hex");
  return JSON.stringify({ bundle: hash, node: process.version, target: t.name, native: t.arch === process.arch, execArgv: SEA_EXEC_ARGV });
}

/** Builds the binaries (this machine's when targets is empty); returns their paths. */
export async function buildBinaries(targets: string[]): Promise<string[]> {
  const started = performance.now();
  mkdirSync(dist, { recursive: true });
  if (await buildUi()) step("stats page bundle regenerated (src/ui/generated/bundle.ts)");
  const bundlePath = await bundle();
  const wanted = targets.length ? [...new Set(targets)].map(target) : [hostTarget()];
  for (const t of wanted) {
    const out = binaryPath(t);
    const stamp = join(dist, `.inputs-${t.name}`);
    const inputs = inputsOf(t, bundlePath);
    if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === inputs) {
      step(`${out.slice(root.length + 1)}: up to date`);
      continue;
    }
    rmSync(stamp, { force: true });
    buildSea(t, bundlePath, out);
    writeFileSync(stamp, inputs);
  }
  step(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return wanted.map(binaryPath);
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { target: { type: "string", multiple: true } } });
  const targets = (values.target ?? []).flatMap((t) => t.split(",")).filter(Boolean);
  try {
    await buildBinaries(targets);
  } catch (err) {
    process.stderr.write(`build: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
