// Writes every published event to the log, one structured line each.

import type { EventBus } from "./events.ts";
import type { Logger } from "./log.ts";

const WARN = new Set(["server.down", "proxy.no_server", "listener.failed", "config.reload_failed", "vrrp.split_brain", "job.failed", "notify.dropped", "pair.link_down", "pair.refused", "pair.config_drift", "pair.split_brain"]);

/** Subscribes log to every event on bus. */
export function logEvents(bus: EventBus, log: Logger): void {
  bus.onAny((e) => {
    const fields = { ...(e.data as unknown as Record<string, unknown>) };
    if (WARN.has(e.name)) log.warn(e.name, fields);
    else log.info(e.name, fields);
  });
}
