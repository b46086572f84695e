// The proxy under test of data_path_fault_test.ts: mode tcp on the fd data path, reloaded when
// told, reporting its open descriptors and memory (after full GCs) when asked. Run with --expose-gc.

import { readdirSync } from "node:fs";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { createLogger, nullLogger } from "../../src/core/log.ts";
import type { Services, Subsystem } from "../../src/core/subsystem.ts";
import { createProxySubsystem } from "../../src/proxy/subsystem.ts";
import { ffiTransport } from "../../src/runtime/ffi_transport.ts";
import { netTransport } from "../../src/runtime/net_transport.ts";
import type { TandemConfig } from "../../src/tandem_config.ts";
import { backend, config, frontend, server } from "../proxy/fixtures.ts";

/** What the test sends. */
export type FaultCommand =
  | { type: "start"; port: number; servers: number[]; dead: number }
  | { type: "reload"; variant: number }
  | { type: "measure" }
  | { type: "stop" };

let proxy: Subsystem | undefined;
let setup: { port: number; servers: number[]; dead: number } | undefined;
const services: Services = {};

/**
 * The live servers and one that refuses (connect failures, retries, redispatch); the variants
 * differ in their timeouts, which end idle and stalled connections and are long enough that a busy
 * machine does not end a working one.
 */
function configFor(variant: number): TandemConfig {
  const s = setup!;
  const servers = s.servers.map((p, i) => server(`s${i}`, p));
  servers.push(server("dead", s.dead));
  const idle = variant === 0 ? 1500 : 1800;
  const timeouts = { connect: 1000, client: idle, server: idle, queue: 2000, httpRequest: 5000, httpKeepAlive: 5000 };
  return config([frontend("f", [`127.0.0.1:${s.port}`], { defaultBackend: "b", timeouts })], [backend("b", servers, { retries: 2, redispatch: true, timeouts })], 20_000);
}

function measure(): { fds: number; heap: number; rss: number; active: number } {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  const m = process.memoryUsage();
  return { fds: readdirSync("/proc/self/fd").length, heap: m.heapUsed, rss: m.rss, active: services.proxy?.status().connections ?? -1 };
}

process.on("message", async (m: FaultCommand) => {
  const reply = (r: object) => process.send!(r);
  try {
    if (m.type === "start") {
      setup = m;
      // TANDEM_FAULT_TRANSPORT=net: the same churn through node:net, for comparison.
      const transport = process.env.TANDEM_FAULT_TRANSPORT === "net" ? netTransport : ffiTransport();
      proxy = createProxySubsystem({ config: configFor(0), bus: new EventBus(), clock: systemClock, log: process.env.FAULT_DEBUG ? createLogger("fault", { level: (process.env.FAULT_DEBUG as "debug" | "warn") }) : nullLogger, services }, { transport });
      await proxy.start();
      reply({ type: "started" });
    } else if (m.type === "reload") {
      await proxy!.reload(configFor(m.variant));
      reply({ type: "reloaded" });
    } else if (m.type === "measure") reply({ type: "measured", ...measure() });
    else {
      await proxy?.stop("test over");
      process.exit(0);
    }
  } catch (err) {
    reply({ type: "failed", error: (err as Error).stack });
  }
});
process.on("disconnect", () => process.exit(0));
