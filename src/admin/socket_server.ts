// The admin unix socket (global.admin_socket): haproxy's stats-socket line protocol over a file-mode-guarded path.

import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { chmodSync, existsSync, lstatSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { TandemError, describeError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { CommandResult } from "./runtime_api.ts";

/** Longest command line accepted; beyond it the connection is closed. */
const MAX_LINE = 16 * 1024;

/**
 * Protocol (as haproxy's stats socket): the client sends a line; commands in it are separated by
 * ";"; each answer is written followed by an empty line, then the connection is closed. After
 * `prompt` the connection stays open (interactive) and a "> " prompt follows every answer;
 * `quit` closes it. After `set severity-output string` messages start with "[err]: " or
 * "[info]: " (haproxy's severity prefixes), which is how `tandem ctl` knows a command failed.
 */
export async function serveConnection(socket: Socket, run: (command: string) => Promise<CommandResult>): Promise<void> {
  let interactive = false;
  let severity = false;
  let buffer = "";
  let busy = Promise.resolve();
  socket.setEncoding("utf8");
  socket.on("error", () => {});
  const answer = (r: CommandResult): string => {
    const text = r.severity && severity && r.text ? `[${r.severity}]: ${r.text}` : r.text;
    return text ? `${text}\n` : "";
  };
  const handle = async (line: string, keepOpen: boolean) => {
    let out = "";
    for (const part of line.split(";")) {
      const cmd = part.trim();
      if (cmd === "prompt") continue;
      if (cmd === "quit") return void socket.end(out);
      else if (/^set severity-output (none|string)$/.test(cmd)) severity = cmd.endsWith("string");
      else if (cmd) out += answer(await run(cmd));
    }
    if (socket.destroyed) return;
    if (keepOpen) socket.write(`${out}\n> `);
    else socket.end(`${out}\n`);
  };
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE && !buffer.includes("\n")) {
      socket.end("[err]: command line too long\n");
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      // Decided now, not when the queued line runs, so the lines after "prompt" are kept.
      for (const part of line.split(";")) if (part.trim() === "prompt") interactive = !interactive;
      const keepOpen = interactive;
      busy = busy.then(() => (socket.writable ? handle(line, keepOpen) : undefined));
      if (!interactive) {
        buffer = "";
        break;
      }
    }
  });
  socket.on("end", () => {
    // A last line without "\n" still counts (echo -n 'show info' | socat ...).
    const line = buffer;
    buffer = "";
    if (line.trim()) busy = busy.then(() => (socket.writable ? handle(line, false) : undefined));
    void busy.then(() => socket.end());
  });
  await new Promise<void>((resolve) => socket.on("close", () => resolve()));
}

/** True when something accepts connections on the unix socket at path. */
function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ path });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** A listening admin socket; close() stops it and removes the file. */
export class AdminSocket {
  readonly path: string;
  readonly mode: number;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #run: (command: string) => Promise<CommandResult>;
  #log: Logger;

  constructor(options: { path: string; mode: number; run: (command: string) => Promise<CommandResult>; log: Logger }) {
    this.path = options.path;
    this.mode = options.mode;
    this.#run = options.run;
    this.#log = options.log;
  }

  /**
   * Listens, replacing a stale socket file left by a killed process. Throws TandemError
   * E_ADMIN_SOCKET when the path is in use by a live process, is not a socket, or cannot be bound.
   */
  async listen(): Promise<void> {
    const fail = (why: string, cause?: unknown) => new TandemError("E_ADMIN_SOCKET", `Cannot listen on admin socket "${this.path}": ${why}`, { cause });
    let existing;
    try {
      existing = lstatSync(this.path);
    } catch {
      existing = undefined;
    }
    if (!existing && !existsSync(dirname(this.path))) throw fail(`its directory "${dirname(this.path)}" does not exist`);
    if (existing) {
      if (!existing.isSocket()) throw fail("the path exists and is not a socket");
      if (await alive(this.path)) throw fail("another process is listening on it");
      rmSync(this.path, { force: true });
    }
    // Half-open: a client may send its command and FIN at once (echo 'show info' | socat).
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      this.#sockets.add(socket);
      void serveConnection(socket, this.#run).finally(() => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(fail(err.code === "EACCES" ? "permission denied" : err.message, err)));
      server.listen({ path: this.path }, () => resolve());
    });
    server.on("error", (err) => this.#log.error(`Admin socket "${this.path}": ${describeError(err)}`));
    this.#server = server;
    try {
      chmodSync(this.path, this.mode);
    } catch (err) {
      await this.close();
      throw fail(`cannot set its mode to ${this.mode.toString(8)}`, err);
    }
  }

  /** Stops listening, ends open connections and removes the socket file. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
    rmSync(this.path, { force: true });
  }
}
