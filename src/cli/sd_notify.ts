// systemd's notify protocol (sd_notify(3)): readiness, reload, stop, status and the watchdog, as datagrams.

import { systemClock, type Clock, type TimerHandle } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { loadLibc } from "../runtime/libc.ts";
import { sendUnixDatagram } from "../runtime/unix_datagram.ts";

/** What the daemon tells its service manager. Every method is a no-op once closed. */
export interface ServiceNotifier {
  /** READY=1 with a STATUS line: started, or a reload finished (applied or not). */
  ready(status: string): void;
  /** RELOADING=1 with MONOTONIC_USEC: a reload began; ready() ends it. */
  reloading(status: string): void;
  /** STOPPING=1: a graceful stop began (the watchdog keeps pinging until close()). */
  stopping(status: string): void;
  /** STATUS=, a one-line summary shown by `systemctl status`. */
  status(text: string): void;
  close(): void;
}

export interface NotifyOptions {
  /** NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID as the service manager set them. */
  env: Record<string, string | undefined>;
  pid: number;
  clock: Clock;
  /** Sends one datagram to the socket (throws on failure). */
  send(socket: string, message: string): void;
  /** CLOCK_MONOTONIC in µs, for MONOTONIC_USEC. */
  monotonicUsec(): bigint;
  /** Where a failed send is reported (once per kind of message, not at every watchdog tick). */
  onError(message: string): void;
}

/** The longest single timer (STYLE: never wait longer than ~30 s in one timer). */
const MAX_TIMER_MS = 30_000;

/** STATUS= carries one line: newlines would start a new assignment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").slice(0, 400);
}

/**
 * The watchdog period: half of WATCHDOG_USEC (systemd.service(5) recommends pinging at half the
 * timeout), when the watchdog is meant for this process (WATCHDOG_PID unset or ours). Undefined
 * when there is no watchdog or the value is not a positive integer.
 */
export function watchdogPeriodMs(env: Record<string, string | undefined>, pid: number): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^\d+$/.test(usec) || Number(usec) === 0) return undefined;
  if (env.WATCHDOG_PID && env.WATCHDOG_PID !== String(pid)) return undefined;
  return Math.max(1, Math.min(Number(usec) / 2000, MAX_TIMER_MS));
}

/**
 * A notifier for the socket in NOTIFY_SOCKET, or undefined when it is not set (not started by
 * systemd with Type=notify). The watchdog pings from an ordinary timer on the event loop: while
 * the loop is stalled no timer runs and no WATCHDOG=1 leaves, so systemd restarts a hung tandem.
 */
export function createServiceNotifier(o: NotifyOptions): ServiceNotifier | undefined {
  const socket = o.env.NOTIFY_SOCKET;
  if (!socket) return undefined;
  const period = watchdogPeriodMs(o.env, o.pid);
  const failed = new Set<string>();
  let closed = false;
  let timer: TimerHandle | undefined;

  const send = (kind: string, lines: string[]) => {
    if (closed) return;
    try {
      o.send(socket, lines.join("\n") + "\n");
      failed.delete(kind);
    } catch (err) {
      if (!failed.has(kind)) o.onError(`Cannot notify the service manager (${kind}) on "${socket}": ${(err as Error).message}`);
      failed.add(kind);
    }
  };
  const ping = () => {
    timer = undefined;
    if (closed || period === undefined) return;
    send("WATCHDOG", ["WATCHDOG=1"]);
    timer = o.clock.setTimeout(ping, period);
  };
  const stopWatchdog = () => {
    timer?.cancel();
    timer = undefined;
  };

  // Pings start at once: systemd may arm the watchdog before READY=1, and starting can take a while.
  ping();
  return {
    ready(status) {
      send("READY", ["READY=1", `STATUS=${oneLine(status)}`]);
    },
    reloading(status) {
      send("RELOADING", ["RELOADING=1", `MONOTONIC_USEC=${o.monotonicUsec()}`, `STATUS=${oneLine(status)}`]);
    },
    stopping(status) {
      send("STOPPING", ["STOPPING=1", `STATUS=${oneLine(status)}`]);
    },
    status(text) {
      send("STATUS", [`STATUS=${oneLine(text)}`]);
    },
    close() {
      stopWatchdog();
      closed = true;
    },
  };
}

/** The variables systemd sets for the notify protocol. */
const NOTIFY_VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/**
 * The notifier for this process when systemd started it with NOTIFY_SOCKET (else undefined). The
 * variables are then removed from the environment, so that programs tandem starts (proxy
 * workers, notify and check scripts) do not talk to systemd in its name (sd_notify(3)'s
 * unset_environment).
 */
export function systemdNotifier(log: Logger): ServiceNotifier | undefined {
  const env = Object.fromEntries(NOTIFY_VARIABLES.map((k) => [k, process.env[k]]));
  if (!env.NOTIFY_SOCKET) return undefined;
  for (const k of NOTIFY_VARIABLES) delete process.env[k];
  const encoder = new TextEncoder();
  return createServiceNotifier({
    env,
    pid: process.pid,
    clock: systemClock,
    send: (socket, message) => sendUnixDatagram(socket, encoder.encode(message)),
    monotonicUsec: () => loadLibc().monotonicUsec(),
    onError: (message) => log.warn(message),
  });
}
