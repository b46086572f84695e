// Test runner: starts the VRRP subsystem alone from a JSON VrrpConfig, prints events as JSON lines.
// Usage: node test/integration/vrrp_runner.ts CONFIG.json   (inside `ip netns exec`)
// Control: SIGTERM = clean stop; a file at $PROXY_DOWN_FILE, when present, makes the proxy unhealthy.

import { readFileSync, existsSync } from "node:fs";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { SubsystemContext } from "../../src/core/subsystem.ts";
import type { TandemConfig, VrrpConfig } from "../../src/config/types.ts";
import { createVrrpSubsystem } from "../../src/vrrp/subsystem.ts";

const vrrp = JSON.parse(readFileSync(process.argv[2], "utf8")) as VrrpConfig;
const config = {
  file: process.argv[2], role: "master", frontends: [], backends: [], notifiers: [], alerts: [], vrrp,
  global: { maxconn: 100, workers: 1, stateDir: "/nonexistent", hostname: "lab", gracePeriod: 1000 },
} as unknown as TandemConfig;

const bus = new EventBus();
bus.onAny((e) => process.stdout.write(JSON.stringify({ event: e.name, ...e.data, at: e.at }) + "\n"));
const ctx: SubsystemContext = { config, bus, clock: systemClock, log: createLogger("tandem", { level: "debug" }), services: {} };
const downFile = process.env.PROXY_DOWN_FILE;
if (downFile) {
  ctx.services.proxy = {
    status: () => ({}),
    serverState: () => undefined,
    healthy: () => (existsSync(downFile) ? { healthy: false, reason: "no server up (test)" } : { healthy: true, reason: "ok" }),
  };
}
const vrrpSub = createVrrpSubsystem(ctx);
await vrrpSub.start();
process.stdout.write(JSON.stringify({ event: "runner.ready" }) + "\n");
const keepAlive = setInterval(() => {}, 1 << 30);
process.on("SIGTERM", async () => {
  await vrrpSub.stop("SIGTERM");
  clearInterval(keepAlive);
  process.exit(0);
});
