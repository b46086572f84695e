// `tandem ctl [--config F | --socket PATH] COMMAND...`: the runtime API's client.

import { createConnection } from "node:net";
import { loadConfigFile } from "../tandem_config.ts";
import { EXIT, describeError } from "../core/errors.ts";

export const CTL_USAGE = `Usage: tandem ctl [--config FILE | --socket PATH] [--timeout SECONDS] COMMAND...
  --config, -c FILE   find the socket from the config's global.admin_socket
  --socket, -s PATH   talk to this socket
  --timeout SECONDS   give up waiting for an answer (default 60; 300 for reload --pair)
Commands: tandem ctl --socket PATH help`;

type Write = (s: string) => void;

interface CtlArgs {
  config?: string;
  socket?: string;
  timeout: number;
  command: string[];
}

/** Options come first; the first word that is not an option starts the command. Throws Error (usage). */
function parse(argv: string[]): CtlArgs {
  const a: CtlArgs = { timeout: 0, command: [] };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    const eq = w.indexOf("=");
    const [name, inline] = w.startsWith("--") && eq > 0 ? [w.slice(0, eq), w.slice(eq + 1)] : [w, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === "--config" || name === "-c") a.config = value();
    else if (name === "--socket" || name === "-s") a.socket = value();
    else if (name === "--timeout") {
      const t = Number(value());
      if (!(t > 0)) throw new Error("--timeout must be a number of seconds above 0");
      a.timeout = t * 1000;
    } else if (name === "--") {
      a.command = argv.slice(i + 1);
      break;
    } else if (w.startsWith("-") && a.command.length === 0) throw new Error(`unknown option "${w}"`);
    else {
      a.command = argv.slice(i);
      break;
    }
  }
  if (a.config && a.socket) throw new Error("give --config or --socket, not both");
  if (!a.config && !a.socket) throw new Error("missing --config FILE or --socket PATH");
  if (a.command.length === 0) throw new Error("missing COMMAND (try: help)");
  // A staged reload waits for each host to be healthy in turn (pair.reload_timeout each).
  if (a.timeout === 0) a.timeout = a.command[0] === "reload" && a.command.includes("--pair") ? 300_000 : 60_000;
  return a;
}

/** The socket path named by the config (also when the rest of the config has errors). Throws Error. */
function socketFromConfig(file: string): string {
  const r = loadConfigFile(file, "master");
  const path = r.config?.global.adminSocket?.path ?? (() => {
    const s = (r.input as { global?: { admin_socket?: string | { path: string } } } | undefined)?.global?.admin_socket;
    return typeof s === "string" ? s : s?.path;
  })();
  if (!path) throw new Error(`Config "${file}" has no global.admin_socket: the runtime API is off`);
  return path;
}

const CONNECT_ERRORS: Record<string, string> = {
  ENOENT: "no such socket (is tandem running, with global.admin_socket set?)",
  ECONNREFUSED: "nothing is listening on it (is tandem running?)",
  EACCES: "permission denied (the socket's mode allows only its owner)",
  ENOTSOCK: "the path is not a socket",
};

/** Sends one command line and returns the whole answer. Rejects with a readable Error. */
export function sendCommand(path: string, command: string, timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    let answer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No answer from "${path}" within ${timeout / 1000}s`));
    }, timeout);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`set severity-output string; ${command}\n`));
    socket.on("data", (d: string) => (answer += d));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`Cannot talk to the admin socket "${path}": ${CONNECT_ERRORS[e.code ?? ""] ?? e.message}`));
    });
    socket.on("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(answer);
    });
  });
}

/**
 * Runs `tandem ctl`: argv is what follows "ctl". Prints the answer; messages marked "[err]: "
 * go to err. Returns 0 when every command succeeded, 2 on a usage error, 1 when the config
 * cannot be read, 3 when the socket cannot be reached or a command failed.
 */
export async function runCtl(argv: string[], out: Write, err: Write): Promise<number> {
  let args: CtlArgs;
  try {
    args = parse(argv);
  } catch (e) {
    err(`tandem ctl: ${(e as Error).message}`);
    err(CTL_USAGE);
    return EXIT.usage;
  }
  let path: string;
  try {
    path = args.socket ?? socketFromConfig(args.config!);
  } catch (e) {
    err(`tandem ctl: ${describeError(e)}`);
    return EXIT.config;
  }
  let answer: string;
  try {
    answer = await sendCommand(path, args.command.join(" "), args.timeout);
  } catch (e) {
    err(`tandem ctl: ${describeError(e)}`);
    return EXIT.runtime;
  }
  let failed = false;
  // A message's first line carries its severity; the lines that follow belong to it.
  let inError = false;
  const text = answer.replace(/\n+$/, "");
  for (const line of text ? text.split("\n") : []) {
    if (line.startsWith("[err]: ")) {
      failed = inError = true;
      err(line.slice(7));
    } else if (line.startsWith("[info]: ")) {
      inError = false;
      out(line.slice(8));
    } else if (inError) err(line);
    else out(line);
  }
  return failed ? EXIT.runtime : EXIT.ok;
}
