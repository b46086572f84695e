// `tandem --config F --check [--role R]`: every problem with its place, or a summary.

import { formatDiagnostic } from "../config/diagnostics.ts";
import { EXIT } from "../core/errors.ts";
import { tandemConfig } from "../tandem_config.ts";
import { summarize } from "./summary.ts";
import { loadForRole } from "./role.ts";

/** Validates file; prints to out (summary) and err (diagnostics). Returns the exit code. */
export function runCheck(file: string, roleArg: string | undefined, out: (s: string) => void, err: (s: string) => void): number {
  const result = loadForRole(tandemConfig, file, roleArg);
  for (const d of result.diagnostics) err(formatDiagnostic(file, d));
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  if (!result.config) {
    err(`${file}: ${errors} error${errors === 1 ? "" : "s"}; the configuration was not accepted`);
    return EXIT.config;
  }
  out(summarize(result.config, result.diagnostics.length));
  return EXIT.ok;
}
