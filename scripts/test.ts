// `npm test`: build the binary, run every test on Node, the unit tests on Deno, and type-check.

import { spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules/.bin", name);

function run(what: string, cmd: string, args: string[], env: Record<string, string> = {}): number {
  process.stdout.write(`\n== ${what}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** Test folders that hold unit tests (no processes, no namespaces): these also run on Deno. */
function unitDirs(): string[] {
  return readdirSync(join(root, "test"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !["integration", "cli", "helpers", "fixtures"].includes(d.name))
    .map((d) => `test/${d.name}/`)
    .filter((d) => existsSync(join(root, d)));
}

const only = process.argv.slice(2);
let failed = 0;
failed += run("build", process.execPath, ["scripts/build.ts"]);
if (failed) process.exit(1);
// One test file at a time: the namespace scenarios measure takeover times on a 2-core machine.
const files = only.length ? only : ["test/"];
failed += run("node --test", process.execPath, ["--test", "--test-concurrency=1", "--test-timeout=180000", ...files]) ? 1 : 0;
if (only.length === 0) {
  failed += run("deno test (unit tests)", bin("deno"), ["test", "-A", "--no-check", ...unitDirs()], { NO_COLOR: "1" }) ? 1 : 0;
  failed += run("deno check (types)", bin("deno"), ["check", "src/main.ts"], { NO_COLOR: "1" }) ? 1 : 0;
  failed += run("deno lint", bin("deno"), ["lint", "src/", "scripts/", "test/"], { NO_COLOR: "1" }) ? 1 : 0;
}
process.stdout.write(`\n${failed === 0 ? "all test stages passed" : `${failed} test stage(s) failed`}\n`);
process.exit(failed === 0 ? 0 : 1);
