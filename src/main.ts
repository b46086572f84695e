// The composition root: argv → config → wire the subsystems → start. No logic of its own.

import pkg from "../package.json" with { type: "json" };
import { parseCommandLine, USAGE } from "./cli/args.ts";
import { runCheck } from "./cli/check.ts";
import { runAlertTest } from "./cli/alert_test.ts";
import { runDaemon } from "./cli/daemon.ts";
import type { SubsystemFactory } from "./cli/daemon.ts";
import { loadForRole } from "./cli/role.ts";
import { ConfigError } from "./config/loader.ts";
import { formatDiagnostic } from "./config/diagnostics.ts";
import { createLogger } from "./core/log.ts";
import { describeError, EXIT, TandemError, UsageError } from "./core/errors.ts";
import { createNotifySubsystem } from "./notify/subsystem.ts";
import { createProxySubsystem } from "./proxy/subsystem.ts";
import { httpSession } from "./proxy/http/session.ts";
import { h2Session } from "./proxy/h2/session.ts";
import { runRoute } from "./cli/route.ts";
import { runImport } from "./cli/import.ts";
import { runCtl } from "./cli/ctl.ts";
import { runWhy } from "./cli/why.ts";
import { createVrrpSubsystem } from "./vrrp/subsystem.ts";
import { createBgpSubsystem } from "./bgp/subsystem.ts";
import { createAlertsSubsystem } from "./alerts/subsystem.ts";
import { createAdminSubsystem } from "./admin/subsystem.ts";
import { createAcmeSubsystem } from "./acme/subsystem.ts";
import { createPairSubsystem } from "./pair/subsystem.ts";
import { tuneGc } from "./runtime/gc.ts";
import { tandemConfig } from "./tandem_config.ts";

/** The subsystems, in start order (stopped in reverse): mail first so nothing is lost, alerts last. */
const SUBSYSTEMS: SubsystemFactory[] = [
  (ctx) => createNotifySubsystem(ctx),
  (ctx) => createProxySubsystem(ctx, { handlers: { http: httpSession }, h2: h2Session }),
  (ctx) => (ctx.config.vrrp ? createVrrpSubsystem(ctx) : undefined),
  (ctx) => createBgpSubsystem(ctx),
  (ctx) => createAcmeSubsystem(ctx),
  (ctx) => createPairSubsystem(ctx),
  (ctx) => createAlertsSubsystem(ctx),
  (ctx) => createAdminSubsystem(ctx),
];

const out = (s: string) => process.stdout.write(s + "\n");
const err = (s: string) => process.stderr.write(s + "\n");

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv);
  switch (args.command) {
    case "help":
      out(USAGE);
      return EXIT.ok;
    case "version":
      out(`tandem ${pkg.version}`);
      return EXIT.ok;
    case "check":
      return runCheck(args.config!, args.role, out, err);
    case "run": {
      tuneGc();
      const log = createLogger("tandem", { level: args.logLevel, format: args.logFormat });
      const result = loadForRole(tandemConfig, args.config!, args.role, true);
      if (!result.config) throw new ConfigError(args.config!, result.diagnostics);
      return await runDaemon(result.config, result.diagnostics, log, SUBSYSTEMS);
    }
    case "route":
      return runRoute(args.argv, out, err);
    case "ctl":
      return await runCtl(args.argv, out, err);
    case "why":
      return await runWhy(args.argv, out, err);
    case "import":
      return runImport(args.argv, out, err);
    case "alert":
      return await runAlertTest(args.argv, out);
    default:
      throw new UsageError(`"${args.command}" is not available in this build yet`);
  }
}

/** Maps what main threw to a message and an exit code. */
function fail(e: unknown): number {
  if (e instanceof UsageError) {
    err(`tandem: ${e.message}`);
    err("Try 'tandem --help'.");
    return EXIT.usage;
  }
  if (e instanceof ConfigError) {
    for (const d of e.diagnostics) err(formatDiagnostic(e.file, d));
    err(e.message);
    return EXIT.config;
  }
  if (e instanceof TandemError && e.code === "E_READ") {
    err(`tandem: ${e.message}`);
    return EXIT.config;
  }
  err(`tandem: ${describeError(e)}`);
  return EXIT.runtime;
}

// No top-level await: the binary's bundle is CommonJS. Exit explicitly once done, after stdio drains.
main(process.argv.slice(2)).catch(fail).then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 20).unref();
});
