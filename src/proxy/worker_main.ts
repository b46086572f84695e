// Entry of a proxy worker process (global.workers > 1): runs the proxy its main process sends.

import { systemClock } from "../core/clock.ts";
import { EventBus } from "../core/events.ts";
import type { Logger, LogFields } from "../core/log.ts";
import type { Services, Subsystem } from "../core/subsystem.ts";
import type { Backend } from "./backend.ts";
import type { ProxySubsystemConfig } from "./config_types.ts";
import { httpSession } from "./http/session.ts";
import { createProxySubsystem } from "./subsystem.ts";
import { h2Session } from "./h2/session.ts";
import type { FromWorker, ToWorker } from "./workers.ts";
import { WORKER_ENV } from "./workers.ts";
import { tuneGc } from "../runtime/gc.ts";

/** Logs through the main process (its level and format); debug lines stay here (dropped). */
function ipcLogger(send: (m: FromWorker) => void, sub: string): Logger {
  const at = (level: "info" | "warn" | "error") => (msg: string, fields?: LogFields) => send({ type: "log", level, sub, msg, fields });
  return { debug() {}, info: at("info"), warn: at("warn"), error: at("error"), child: (name) => ipcLogger(send, `${sub}.${name}`) };
}

/**
 * Serves until the main process says stop or goes away. Messages: start (config) → started or
 * failed; reload → reloaded; server (a state to mirror); stick / stick_clear; stop → exit.
 * Counters go to the main process every second.
 */
export function runProxyWorker(): void {
  delete process.env[WORKER_ENV];
  tuneGc();
  const send = (m: FromWorker) => {
    if (process.connected) process.send!(m);
  };
  const log = ipcLogger(send, "proxy");
  const bus = new EventBus({ onError: (err, name) => log.error(`event subscriber failed on "${name}": ${(err as Error).message}`) });
  const services: Services = {};
  let proxy: Subsystem | undefined;
  let lookup: ((name: string) => Backend | undefined) | undefined;
  let stopping = false;
  const report = setInterval(() => {
    const st = services.proxy?.status();
    if (st) send({ type: "status", status: st });
  }, 1000);
  report.unref();

  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(report);
    await proxy?.stop(reason).catch(() => {});
    process.exit(0);
  };

  const handle = async (m: ToWorker) => {
    switch (m.type) {
      case "start": {
        const ctx = { config: m.config as ProxySubsystemConfig, bus, clock: systemClock, log, services };
        proxy = createProxySubsystem(ctx, {
          handlers: { http: httpSession },
          h2: h2Session,
          worker: {
            onStick: (p, key, server, changed) => send({ type: "stick", proxy: p, key, server, changed }),
            attach: (api) => (lookup = api.backend),
          },
        });
        try {
          await proxy.start();
          send({ type: "started" });
        } catch (err) {
          send({ type: "failed", error: (err as Error).message });
          setTimeout(() => process.exit(1), 50);
        }
        break;
      }
      case "reload":
        try {
          await proxy?.reload(m.config);
          send({ type: "reloaded", id: m.id });
        } catch (err) {
          send({ type: "reloaded", id: m.id, error: (err as Error).message });
        }
        break;
      case "server":
        lookup?.(m.proxy)?.applyServerState(m.server, m.snap);
        break;
      case "stick":
        lookup?.(m.proxy)?.stick?.store(m.key, m.server);
        break;
      case "sticks": {
        const table = lookup?.(m.proxy)?.stick;
        const now = systemClock.now();
        for (const [key, server, expiresIn] of m.entries) table?.merge(key, server, now + expiresIn);
        break;
      }
      case "close_accepted":
        services.proxy?.closeAccepted(m.addresses);
        break;
      case "stick_clear":
        lookup?.(m.proxy)?.stick?.clear();
        break;
      case "stop":
        await stop(m.reason);
        break;
    }
  };
  process.on("message", (m: ToWorker) => void handle(m));
  // The main process went away (even SIGKILL): nobody runs the checks any more.
  process.on("disconnect", () => void stop("main process gone"));
  // A terminal's ^C / a HUP reach the whole process group: the main process decides.
  process.on("SIGINT", () => {});
  process.on("SIGHUP", () => {});
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

runProxyWorker();
