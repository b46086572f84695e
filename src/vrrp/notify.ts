// Notify commands per VRRP state (keepalived notify_master/backup/fault/stop): run in order, with a timeout.

import { spawn } from "node:child_process";

/** Result of one command: exit code, or why it did not finish. */
export interface CommandResult {
  ok: boolean;
  code: number | null;
  /** "exit 1", "timeout after 5000ms", "spawn error: ...". */
  reason: string;
  output: string;
}

/**
 * Runs `command` through /bin/sh with positional args, kills its process group after timeoutMs.
 * Never rejects.
 */
export function runCommand(command: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    let output = "";
    let done = false;
    const finish = (r: CommandResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("/bin/sh", ["-c", command, "tandem-notify", ...args], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    } catch (err) {
      resolve({ ok: false, code: null, reason: `spawn error: ${(err as Error).message}`, output: "" });
      return;
    }
    const collect = (b: Buffer) => {
      if (output.length < 4096) output += b.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      finish({ ok: false, code: null, reason: `timeout after ${timeoutMs}ms`, output });
    }, timeoutMs);
    child.on("error", (err) => finish({ ok: false, code: null, reason: `spawn error: ${err.message}`, output }));
    child.on("close", (code, signal) => finish({ ok: code === 0, code, reason: signal ? `killed by ${signal}` : `exit ${code}`, output }));
  });
}

/** Serialises notify commands so they run in the order the transitions happened. */
export class NotifyQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #timeout: number;
  #onResult: (command: string, r: CommandResult) => void;

  constructor(timeoutMs: number, onResult: (command: string, r: CommandResult) => void) {
    this.#timeout = timeoutMs;
    this.#onResult = onResult;
  }

  /** Queues a command; keepalived's arguments: INSTANCE name STATE priority. */
  push(command: string, instance: string, state: string, priority: number): void {
    this.#queue(command, ["INSTANCE", instance, state.toUpperCase(), String(priority)]);
  }

  /** Queues a sync group's command; keepalived's arguments: GROUP name STATE. */
  pushGroup(command: string, group: string, state: string): void {
    this.#queue(command, ["GROUP", group, state.toUpperCase()]);
  }

  #queue(command: string, args: string[]): void {
    this.#tail = this.#tail.then(async () => this.#onResult(command, await runCommand(command, args, this.#timeout)));
  }

  /** Resolves when every queued command has finished. */
  drain(): Promise<void> {
    return this.#tail.then(() => {});
  }
}
