// A running dist/tandem with real loopback backends, an admin socket and a stats page, for the admin tests.

import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCtl } from "../../src/cli/ctl.ts";
import { TandemProcess } from "./binary.ts";
import { freePort } from "./net.ts";

export { freePort };

/** A TCP backend that answers every chunk with "<name>:<chunk>"; stop() closes it and its connections. */
export class NamedBackend {
  readonly name: string;
  readonly port: number;
  #server: Server | undefined;
  #sockets = new Set<Socket>();

  constructor(name: string, port: number) {
    this.name = name;
    this.port = port;
  }

  async start(): Promise<void> {
    const server = createServer((s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
      s.on("error", () => {});
      s.on("data", (d) => s.write(`${this.name}:${d}`));
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", () => r()));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    for (const k of this.#sockets) k.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Connects through the proxy, sends "hi" and returns who answered (or "" when refused/closed). */
export function whoAnswers(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    const t = setTimeout(() => c.destroy(), 3000);
    let got = "";
    c.on("connect", () => c.write("hi"));
    c.on("data", (d) => {
      got += d;
      c.end();
    });
    c.on("error", () => {});
    c.on("close", () => {
      clearTimeout(t);
      resolve(got.split(":")[0]);
    });
  });
}

export interface AdminLabOptions {
  /** Extra YAML appended under `stats:` (e.g. auth). */
  stats?: string;
}

/** dist/tandem serving proxy "web" (two checked servers s1, s2, a stick table), the admin socket and stats. */
export class AdminLab {
  readonly dir = mkdtempSync(join(tmpdir(), "tandem-admin-lab-"));
  readonly file = join(this.dir, "tandem.yaml");
  readonly socket = join(this.dir, "admin.sock");
  backends: NamedBackend[] = [];
  proxyPort = 0;
  statsPort = 0;
  process: TandemProcess | undefined;
  #options: AdminLabOptions;

  constructor(options: AdminLabOptions = {}) {
    this.#options = options;
  }

  /** The config text; `extra` is appended to the proxy (reload tests change it). */
  yaml(extra = ""): string {
    const [s1, s2] = this.backends;
    const check = "check: { interval: 300ms, timeout: 500ms, rise: 1, fall: 1 }";
    return `global:
  state_dir: ${this.dir}/state
  grace_period: 1s
  admin_socket: { path: ${this.socket}, mode: "0600" }
defaults:
  mode: tcp
  timeout: { connect: 1s, client: 10s, server: 10s }
proxies:
  web:
    bind: 127.0.0.1:${this.proxyPort}
    balance: roundrobin
    stick: { on: src, type: ip, size: 100, expire: 60s }
    servers:
      s1: { address: 127.0.0.1, port: ${s1.port}, weight: 2, ${check} }
      s2: { address: 127.0.0.1, port: ${s2.port}, ${check} }
${extra}stats:
  bind: 127.0.0.1:${this.statsPort}
  uri: /stats
  admin: true
  refresh: 1s
${this.#options.stats ?? ""}`;
  }

  async start(): Promise<void> {
    this.backends = [new NamedBackend("s1", await freePort()), new NamedBackend("s2", await freePort())];
    for (const b of this.backends) await b.start();
    this.proxyPort = await freePort();
    this.statsPort = await freePort();
    writeFileSync(this.file, this.yaml());
    this.process = new TandemProcess(["--config", this.file, "--role", "master"]);
    await this.process.waitFor(/tandem started/, 10_000);
  }

  /** Runs `tandem ctl` in this process against the running binary; returns exit code and output. */
  async ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const args = argv[0]?.startsWith("-") ? argv : ["--socket", this.socket, ...argv];
    const code = await runCtl(args, (s) => out.push(s), (s) => err.push(s));
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.statsPort}/stats`;
  }

  /** Polls until fn() is true or ms pass; returns whether it became true. */
  async until(fn: () => Promise<boolean> | boolean, ms = 5000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await fn()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    for (const b of this.backends) await b.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
