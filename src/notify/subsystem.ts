// The notify subsystem: one spool-backed delivery queue per configured notifier, behind ctx.services.notify.

import { join } from "node:path";
import type { BaseConfig } from "../config/types.ts";
import { TandemError } from "../core/errors.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import type { NotifierConfig } from "./config.ts";
import { createEmailTransport } from "./email.ts";
import type { OutgoingMessage } from "./message.ts";
import { DeliveryQueue, type QueueStatus, type Transport } from "./queue.ts";
import { createWebhookTransport } from "./webhook.ts";

/** What ctx.services.notify.status() returns. */
export interface NotifyStatus {
  notifiers: QueueStatus[];
}

/** What the notify subsystem offers the others (ctx.services.notify). */
export interface NotifyService {
  status(): NotifyStatus;
  /** Spools message for notifier and returns its id. Throws TandemError E_NOTIFY_UNKNOWN for an unknown notifier. */
  send(notifier: string, message: OutgoingMessage): Promise<string>;
}

declare module "../core/subsystem.ts" {
  interface Services {
    notify?: NotifyService;
  }
}

/** What the notify subsystem reads of the resolved config. */
export type NotifySubsystemConfig = BaseConfig & { notifiers: NotifierConfig[] };

/** The spool directory of a notifier: `<stateDir>/spool/<name>`. */
export function spoolDir(config: NotifySubsystemConfig, notifier: string): string {
  return join(config.global.stateDir, "spool", notifier.replace(/[^\w.-]/g, "_"));
}

/** Builds the transport for a notifier config. */
export function createTransport(notifier: NotifierConfig, hostname: string): Transport {
  return notifier.type === "email" ? createEmailTransport(notifier, hostname) : createWebhookTransport(notifier, hostname);
}

/**
 * Creates the notify subsystem and fills ctx.services.notify at once (before start), so other
 * subsystems can hold the service; send() before start() spools and delivers once started.
 */
export function createNotifySubsystem(ctx: SubsystemContext<NotifySubsystemConfig>): Subsystem<NotifySubsystemConfig> & { queues(): DeliveryQueue[] } {
  const log = ctx.log.child("notify");
  let config = ctx.config;
  const queues = new Map<string, { queue: DeliveryQueue; key: string }>();
  let started = false;

  const keyOf = (n: NotifierConfig) => JSON.stringify([n, config.global.stateDir, config.global.hostname]);
  const build = (n: NotifierConfig) =>
    new DeliveryQueue({
      notifier: n.name,
      dir: spoolDir(config, n.name),
      transport: createTransport(n, config.global.hostname),
      retry: n.retry,
      clock: ctx.clock,
      bus: ctx.bus,
      log,
    });
  for (const n of config.notifiers) queues.set(n.name, { queue: build(n), key: keyOf(n) });

  ctx.services.notify = {
    status(): NotifyStatus {
      return { notifiers: [...queues.values()].map((q) => q.queue.status()) };
    },
    async send(notifier: string, message: OutgoingMessage): Promise<string> {
      const q = queues.get(notifier);
      if (!q) {
        const known = [...queues.keys()].map((k) => `"${k}"`).join(", ") || "none";
        throw new TandemError("E_NOTIFY_UNKNOWN", `Cannot send to notifier "${notifier}": not configured (configured: ${known})`);
      }
      return q.queue.enqueue(message);
    },
  };

  return {
    name: "notify",
    queues: () => [...queues.values()].map((q) => q.queue),
    async start() {
      started = true;
      for (const { queue } of queues.values()) await queue.start();
      log.info("notifiers ready", { notifiers: [...queues.keys()].join(",") || "none" });
    },
    async reload(next: NotifySubsystemConfig) {
      const previous = config;
      config = next;
      const wanted = new Set(next.notifiers.map((n) => n.name));
      for (const [name, q] of queues) {
        if (wanted.has(name)) continue;
        await q.queue.stop();
        queues.delete(name);
        const pending = q.queue.status().pending;
        if (pending > 0) log.warn("notifier removed; its pending messages stay in the spool", { notifier: name, pending, dir: spoolDir(previous, name) });
      }
      for (const n of next.notifiers) {
        const current = queues.get(n.name);
        const key = keyOf(n);
        if (current && current.key === key) continue;
        if (current && spoolDir(previous, n.name) === spoolDir(next, n.name)) {
          current.queue.update(createTransport(n, next.global.hostname), n.retry);
          current.key = key;
          continue;
        }
        if (current) await current.queue.stop();
        const queue = build(n);
        queues.set(n.name, { queue, key });
        if (started) await queue.start();
      }
    },
    async stop(reason: string) {
      await Promise.all([...queues.values()].map((q) => q.queue.stop()));
      const pending = [...queues.values()].reduce((sum, q) => sum + q.queue.status().pending, 0);
      log.info("notify stopped", { reason, pendingInSpool: pending });
    },
  };
}
