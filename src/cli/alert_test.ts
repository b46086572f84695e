// `tandem alert test --config F [--notifier NAME]`: sends one message now and shows the outcome.

import { parseArgs } from "node:util";
import { ConfigError } from "../config/loader.ts";
import { EXIT, UsageError } from "../core/errors.ts";
import { tandemConfig } from "../tandem_config.ts";
import { loadForRole } from "./role.ts";
import { formatTestResults, sendTestMessage } from "../notify/test_message.ts";

/** Runs the subcommand; argv is what follows `alert`. Returns the exit code. */
export async function runAlertTest(argv: string[], out: (s: string) => void): Promise<number> {
  if (argv[0] !== "test") throw new UsageError(`unknown alert command "${argv[0] ?? ""}": try "tandem alert test --config FILE"`);
  let values;
  try {
    ({ values } = parseArgs({ args: argv.slice(1), options: { config: { type: "string", short: "c" }, notifier: { type: "string" }, role: { type: "string" } } }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!values.config) throw new UsageError("missing --config FILE");
  const { config, diagnostics } = loadForRole(tandemConfig, values.config, values.role);
  if (!config) throw new ConfigError(values.config, diagnostics);
  if (config.notifiers.length === 0) throw new UsageError(`${values.config} defines no notifier under notify:`);
  const results = await sendTestMessage(config, values.notifier);
  out(formatTestResults(results));
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.runtime;
}
