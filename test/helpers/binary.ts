// Finds and runs the built binary (dist/tandem) the way a user would.

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess, SpawnSyncReturns } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of dist/tandem; throws a clear error when it was not built. */
export function tandemBinary(): string {
  const path = fileURLToPath(new URL("../../dist/tandem", import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} does not exist: run "npm run build" first (npm test does)`);
  return path;
}

/** Runs the binary to completion with an empty environment. */
export function runTandem(args: string[], options: { cwd?: string; binary?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(options.binary ?? tandemBinary(), args, { cwd: options.cwd, env: options.env ?? {}, encoding: "utf8", timeout: 20_000 });
}

/** Runs the binary to completion without blocking this process (for servers living in the test). */
export function runTandemAsync(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tandemBinary(), args, { cwd: options.cwd, env: options.env ?? {}, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A running binary whose stderr is collected; waitFor resolves when a line matches. */
export class TandemProcess {
  readonly child: ChildProcess;
  stderr = "";
  stdout = "";
  readonly exited: Promise<number | null>;

  constructor(args: string[], options: { cwd?: string; env?: Record<string, string>; command?: string[] } = {}) {
    const [cmd, ...pre] = options.command ?? [tandemBinary()];
    this.child = spawn(cmd, [...pre, ...args], { cwd: options.cwd, env: options.env ?? {}, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Waits until stderr matches re (from offset `from`), or rejects after ms. */
  async waitFor(re: RegExp, ms = 10_000, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = re.exec(this.stderr.slice(from));
      if (m) return m[0];
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${re} in:\n${this.stderr}`);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Stops the process (SIGTERM, then SIGKILL after ms). */
  async stop(ms = 5000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}
