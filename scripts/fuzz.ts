// `npm run fuzz -- [--seed N] [--duration SECONDS] [--no-build]`: the framing fuzz tests, longer and with any seed.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const USAGE = "Usage: npm run fuzz -- [--seed N] [--duration SECONDS] [--no-build]";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The in-process parser fuzz and the fuzz through dist/tandem; each gets half the duration. */
const FILES = ["test/proxy/http/parser_fuzz_test.ts", "test/integration/http_framing_fuzz_test.ts"];

let seed = Math.floor(Math.random() * 2 ** 31);
let seconds = 300;
let build = true;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) {
      process.stderr.write(`fuzz: ${a} needs a whole number\n${USAGE}\n`);
      process.exit(2);
    }
    return v;
  };
  if (a === "--seed") seed = value();
  else if (a === "--duration") seconds = Math.max(2, value());
  else if (a === "--no-build") build = false;
  else {
    process.stderr.write(`fuzz: unknown argument "${a}"\n${USAGE}\n`);
    process.exit(2);
  }
}

if (build || !existsSync(join(root, "dist/tandem"))) {
  const b = spawnSync(process.execPath, ["scripts/build.ts"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) process.exit(1);
}
process.stdout.write(`fuzz: seed ${seed}, ${seconds} s (replay with: npm run fuzz -- --seed ${seed} --duration ${seconds})\n`);
const env = { ...process.env, TANDEM_FUZZ_SEED: String(seed), TANDEM_FUZZ_MS: String((seconds * 1000) / FILES.length) };
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", `--test-timeout=${seconds * 1000 + 120_000}`, ...FILES], { cwd: root, stdio: "inherit", env });
process.exit(r.status ?? 1);
