// `tandem --config F --role R`: load, start the subsystems, handle SIGTERM/SIGINT (stop) and SIGHUP (reload).

import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import type { TandemConfig } from "../tandem_config.ts";
import { loadConfigFile } from "../tandem_config.ts";
import { formatDiagnostic } from "../config/diagnostics.ts";
import type { Located } from "../config/diagnostics.ts";
import { EventBus } from "../core/events.ts";
import { systemClock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { describeError, EXIT, TandemError } from "../core/errors.ts";
import type { ReloadOutcome, Services, Subsystem, SubsystemContext, ValidateOutcome } from "../core/subsystem.ts";
import { logEvents } from "../core/event_log.ts";
import { systemdNotifier, type ServiceNotifier } from "./sd_notify.ts";
import { followStatus } from "./service_status.ts";

export type SubsystemFactory = (ctx: SubsystemContext<TandemConfig>) => Subsystem<TandemConfig> | undefined;

function logDiagnostics(log: Logger, file: string, items: Located[]): void {
  for (const d of items) {
    const text = formatDiagnostic(file, d);
    if (d.severity === "error") log.error(text);
    else log.warn(text);
  }
}

/** A running tandem: the subsystems, the signal handlers, reload and stop. */
export class Daemon {
  readonly bus: EventBus;
  readonly services: Services = {};
  #config: TandemConfig;
  #log: Logger;
  #subsystems: Subsystem<TandemConfig>[] = [];
  #stopping?: Promise<void>;
  #reloading = Promise.resolve();

  constructor(config: TandemConfig, log: Logger, factories: SubsystemFactory[]) {
    this.#config = config;
    this.#log = log;
    this.bus = new EventBus({ onError: (err, name) => log.error(`event subscriber failed on "${name}": ${describeError(err)}`) });
    logEvents(this.bus, log.child("event"));
    this.services.reload = () => this.reload();
    this.services.validate = () => Promise.resolve(this.validate());
    const ctx: SubsystemContext<TandemConfig> = { config, bus: this.bus, clock: systemClock, log, services: this.services };
    for (const make of factories) {
      const s = make(ctx);
      if (s) this.#subsystems.push(s);
    }
  }

  get config(): TandemConfig {
    return this.#config;
  }

  /** Starts every subsystem in order; a failure stops those already started and rethrows. */
  async start(): Promise<void> {
    try {
      mkdirSync(this.#config.global.stateDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new TandemError("E_START", `Cannot create state_dir "${this.#config.global.stateDir}": ${describeError(err)}`, { cause: err });
    }
    const started: Subsystem[] = [];
    for (const s of this.#subsystems) {
      try {
        await s.start();
        started.push(s);
      } catch (err) {
        for (const t of started.reverse()) await t.stop("start failed").catch(() => {});
        throw new TandemError("E_START", `Cannot start ${s.name}: ${describeError(err)}`, { cause: err });
      }
    }
    if (this.#config.global.pidfile) {
      try {
        writeFileSync(this.#config.global.pidfile, `${process.pid}\n`);
      } catch (err) {
        this.#log.error(`Cannot write pidfile "${this.#config.global.pidfile}": ${describeError(err)}`);
      }
    }
    this.bus.emit("tandem.started", { role: this.#config.role, pid: process.pid });
  }

  /**
   * Re-reads the file and applies it only when it is valid and every subsystem takes it. A
   * subsystem that cannot (a listener whose port is taken, say) leaves the running configuration
   * in force: those that had taken the new one go back to it, `config.reload_failed` is emitted
   * and the outcome says why. Never rejects.
   */
  reload(): Promise<ReloadOutcome> {
    const run = this.#reloading.then(async (): Promise<ReloadOutcome> => {
      const { file, role } = this.#config;
      this.bus.emit("config.reloading", { file });
      const failed = (errors: string[], summary: string): ReloadOutcome => {
        this.#log.error(`reload failed, keeping the running configuration: ${summary}`);
        this.bus.emit("config.reload_failed", { file, errors });
        return { applied: false, errors };
      };
      let result;
      try {
        result = loadConfigFile(file, role);
      } catch (err) {
        return failed([describeError(err)], describeError(err));
      }
      if (!result.config) {
        const errors = result.diagnostics.filter((d) => d.severity === "error");
        const outcome = failed(errors.map((d) => formatDiagnostic(file, d)), `${errors.length} error(s) in ${file}`);
        logDiagnostics(this.#log, file, errors);
        return outcome;
      }
      logDiagnostics(this.#log, file, result.diagnostics);
      const running = this.#config;
      const applied: Subsystem<TandemConfig>[] = [];
      for (const s of this.#subsystems) {
        try {
          await s.reload(result.config);
          applied.push(s);
        } catch (err) {
          // The failing subsystem kept its running configuration (Subsystem.reload's contract);
          // those before it go back to it, so no two subsystems run different files.
          for (const t of applied.reverse()) {
            await t.reload(running).catch((e) => this.#log.error(`${t.name}: cannot go back to the running configuration: ${describeError(e)}`));
          }
          // A TandemError's message is written for people (E_BIND names proxy, address and reason).
          const why = `${s.name}: ${err instanceof TandemError ? err.message : describeError(err)}`;
          return failed([why], why);
        }
      }
      this.#config = result.config;
      this.bus.emit("config.reloaded", { file });
      return { applied: true, errors: [] };
    });
    this.#reloading = run.then(() => undefined);
    return run;
  }

  /** Reads and checks the config file as reload() would, applying nothing. Never throws. */
  validate(): ValidateOutcome {
    const { file, role } = this.#config;
    try {
      const result = loadConfigFile(file, role);
      if (result.config) return { valid: true, errors: [], config: result.config };
      return { valid: false, errors: result.diagnostics.filter((d) => d.severity === "error").map((d) => formatDiagnostic(file, d)) };
    } catch (err) {
      return { valid: false, errors: [describeError(err)] };
    }
  }

  /** Stops every subsystem in reverse order, bounded by the grace period. Idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= (async () => {
      this.bus.emit("tandem.stopping", { role: this.#config.role, reason });
      const grace = this.#config.global.gracePeriod;
      // Reverse start order, except that VRRP hands the VIP over and BGP withdraws first: the
      // peer or the other nodes take traffic while our listeners drain.
      const first = (s: Subsystem) => Number(s.name === "vrrp" || s.name === "bgp");
      const order = [...this.#subsystems].reverse().sort((a, b) => first(b) - first(a));
      const all = (async () => {
        for (const s of order) {
          await s.stop(reason).catch((err) => this.#log.error(`${s.name}: stop failed: ${describeError(err)}`));
        }
      })();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#log.warn(`grace period of ${grace}ms is over: stopping now`);
          resolve();
        }, grace);
      });
      await Promise.race([all, timeout]);
      clearTimeout(timer);
      if (this.#config.global.pidfile) rmSync(this.#config.global.pidfile, { force: true });
    })();
    return this.#stopping;
  }
}

/**
 * Tells systemd (Type=notify) what the daemon does, from its events: READY=1 once every subsystem
 * started (listeners bound, VRRP running), RELOADING=1 then READY=1 around each reload (SIGHUP or
 * the runtime API), STOPPING=1, and a STATUS= line whenever the summary changes.
 */
function reportToServiceManager(daemon: Daemon, notifier: ServiceNotifier): void {
  const configured = (proxy: string, server: string) => daemon.services.proxy?.serverState(proxy, server) !== undefined;
  const status = followStatus(daemon.bus, daemon.config.role, (line) => notifier.status(line), configured);
  const phase = (p: typeof status.facts.phase) => {
    status.facts.phase = p;
    return status.line();
  };
  daemon.bus.on("tandem.started", () => notifier.ready(phase("running")));
  daemon.bus.on("config.reloading", () => notifier.reloading(phase("reloading")));
  daemon.bus.on("config.reloaded", () => notifier.ready(phase("running")));
  daemon.bus.on("config.reload_failed", () => notifier.ready(phase("running")));
  daemon.bus.on("tandem.stopping", () => notifier.stopping(phase("stopping")));
}

/** Runs until SIGTERM/SIGINT; returns the exit code. */
export async function runDaemon(config: TandemConfig, warnings: Located[], log: Logger, factories: SubsystemFactory[]): Promise<number> {
  logDiagnostics(log, config.file, warnings);
  const notifier = systemdNotifier(log);
  const daemon = new Daemon(config, log, factories);
  if (notifier) reportToServiceManager(daemon, notifier);
  try {
    await daemon.start();
  } catch (err) {
    log.error(describeError(err));
    notifier?.status(`failed to start: ${describeError(err)}`);
    notifier?.close();
    // A subsystem that refuses its configuration (e.g. E_VRRP_CONFIG) is a config error, not a crash.
    const code = (err as { cause?: { code?: string } }).cause?.code ?? "";
    return /CONFIG/.test(code) ? EXIT.config : EXIT.runtime;
  }
  log.info(`tandem started`, { role: config.role, pid: process.pid, config: config.file });
  // Keeps the process alive even when no subsystem holds a handle (a config with nothing to serve).
  const keepAlive = setInterval(() => {}, 1 << 30);
  return await new Promise<number>((resolve) => {
    let signals = 0;
    const onStop = (sig: string) => {
      signals++;
      if (signals > 1) {
        log.warn(`second ${sig}: exiting at once`);
        clearInterval(keepAlive);
        resolve(EXIT.runtime);
        return;
      }
      log.info(`${sig} received: stopping`);
      daemon.stop(sig).then(() => {
        notifier?.close();
        clearInterval(keepAlive);
        resolve(EXIT.ok);
      });
    };
    process.on("SIGTERM", () => onStop("SIGTERM"));
    process.on("SIGINT", () => onStop("SIGINT"));
    process.on("SIGHUP", () => {
      log.info("SIGHUP received: reloading");
      void daemon.reload();
    });
  });
}
