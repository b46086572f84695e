// The command line: `tandem --config F --role R`, `--check`, and the subcommands.

import { parseArgs } from "node:util";
import { UsageError } from "../core/errors.ts";
import type { LogLevel } from "../core/log.ts";
import { LOG_LEVELS } from "../core/log.ts";

export const USAGE = `Usage:
  tandem --config FILE --role master|backup [--log-level LEVEL] [--log-format text|json]
  tandem --config FILE --check [--role master|backup]
  tandem route --config FILE METHOD URL [-H 'Name: value' ...]
  tandem ctl [--config FILE | --socket PATH] COMMAND...      (reload --pair: both hosts in turn)
  tandem why [--config FILE | --socket PATH]                 why the VIP is where it is
  tandem alert test --config FILE [--notifier NAME]
  tandem import --haproxy FILE [--keepalived FILE] [--keepalived-backup FILE] [--crontab FILE] [-o FILE]
  tandem --version | --help

Options:
  -c, --config FILE     the YAML configuration (the same file on both hosts)
  -r, --role ROLE       which host this is: master or backup (as defined under vrrp.roles);
                        without a vrrp section it may be left out (master)
      --check           validate the configuration, print a summary, and exit
      --log-level LEVEL debug, info, warn or error (default info)
      --log-format FMT  text or json (default text)
  -v, --version         print the version
  -h, --help            print this help

Exit codes: 0 ok, 1 configuration error, 2 usage error, 3 runtime failure.`;

export interface RunArgs {
  command: "run" | "check" | "version" | "help" | "route" | "ctl" | "alert" | "import" | "why";
  config?: string;
  role?: string;
  logLevel: LogLevel;
  logFormat: "text" | "json";
  /** Words after the subcommand. */
  rest: string[];
  /** Raw argv after the subcommand, for subcommands with their own options. */
  argv: string[];
}

const SUBCOMMANDS = new Set(["route", "ctl", "alert", "import", "why"]);

/** Parses argv (without node and script). Throws UsageError. */
export function parseCommandLine(argv: string[]): RunArgs {
  if (argv.length > 0 && SUBCOMMANDS.has(argv[0])) {
    return { command: argv[0] as RunArgs["command"], logLevel: "info", logFormat: "text", rest: argv.slice(1), argv: argv.slice(1) };
  }
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        role: { type: "string", short: "r" },
        check: { type: "boolean" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        version: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, ""));
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const logLevel = (values["log-level"] ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, not "${logLevel}"`);
  const logFormat = values["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") throw new UsageError(`--log-format must be text or json, not "${logFormat}"`);
  const base = { config: values.config, role: values.role, logLevel, logFormat: logFormat as "text" | "json", rest: [], argv };
  if (values.help) return { ...base, command: "help" };
  if (values.version) return { ...base, command: "version" };
  if (!values.config) throw new UsageError("missing --config FILE");
  return { ...base, command: values.check ? "check" : "run" };
}
