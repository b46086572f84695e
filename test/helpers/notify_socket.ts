// A service manager's notify socket for tests: a unix datagram socket bound by a small Python
// receiver (independent of tandem's own socket code), recording each datagram with its wall time.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RECEIVER = `
import json, socket, sys, time
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + name[1:] if name.startswith("@") else name)
print("ready", flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps([time.time() * 1000, data.decode("utf-8", "replace")]), flush=True)
`;

/** One datagram: the wall time it arrived (ms) and its KEY=VALUE lines. */
export interface NotifyMessage {
  at: number;
  fields: Record<string, string>;
  text: string;
}

/** A bound receiver; `address` is what NOTIFY_SOCKET should say. */
export class NotifySocket {
  readonly address: string;
  readonly messages: NotifyMessage[] = [];
  #child: ChildProcess;
  #dir: string;

  private constructor(address: string, dir: string, child: ChildProcess) {
    this.address = address;
    this.#dir = dir;
    this.#child = child;
  }

  /** Binds a socket file in a fresh directory, or an abstract name (`@...`) when abstract. */
  static async open(options: { abstract?: boolean } = {}): Promise<NotifySocket> {
    const dir = mkdtempSync(join(tmpdir(), "tandem-notify-"));
    const address = options.abstract ? `@tandem-test-${process.pid}-${Math.random().toString(36).slice(2)}` : join(dir, "notify.sock");
    const child = spawn("python3", ["-c", RECEIVER, address], { stdio: ["ignore", "pipe", "pipe"] });
    const sock = new NotifySocket(address, dir, child);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      let partial = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        partial += d;
        const lines = partial.split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (line === "ready") resolve();
          else if (line) sock.#record(line);
        }
      });
      child.on("error", reject);
      child.on("exit", (code) => reject(new Error(`notify receiver (python3) exited with ${code}: ${stderr}`)));
    });
    return sock;
  }

  #record(line: string): void {
    const [at, text] = JSON.parse(line) as [number, string];
    const fields: Record<string, string> = {};
    for (const l of text.split("\n")) {
      const i = l.indexOf("=");
      if (i > 0) fields[l.slice(0, i)] = l.slice(i + 1);
    }
    this.messages.push({ at, fields, text });
  }

  /** Messages carrying KEY (optionally with that value). */
  with(key: string, value?: string): NotifyMessage[] {
    return this.messages.filter((m) => key in m.fields && (value === undefined || m.fields[key] === value));
  }

  /** Waits until a message after index `from` satisfies pred; returns it, or throws after ms. */
  async waitFor(pred: (m: NotifyMessage) => boolean, ms = 10_000, from = 0): Promise<NotifyMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.slice(from).find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no such notify message within ${ms} ms; got:\n${this.messages.map((x) => JSON.stringify(x.text)).join("\n")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.#child.kill("SIGKILL");
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
