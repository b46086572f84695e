// Test child for sd_notify_test.ts: the real notifier (NOTIFY_SOCKET, WATCHDOG_USEC from the
// environment) in a process that blocks its own event loop for BLOCK_MS, printing when; it runs
// 600 ms before and after.
// Usage: node|deno run -A test/integration/sd_notify_child.ts BLOCK_MS

import { systemdNotifier } from "../../src/cli/sd_notify.ts";
import { createLogger } from "../../src/core/log.ts";

const blockMs = Number(process.argv[2] ?? "1000");
const notifier = systemdNotifier(createLogger("child", { level: "info", format: "text" }));
if (!notifier) throw new Error("NOTIFY_SOCKET is not set");
notifier.ready("child, running");
console.log(`inherited NOTIFY_SOCKET=${process.env.NOTIFY_SOCKET ?? ""}`);
await new Promise((r) => setTimeout(r, 600));
console.log(`block ${Date.now()}`);
// A stalled loop: nothing runs, no timer fires.
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
console.log(`unblock ${Date.now()}`);
await new Promise((r) => setTimeout(r, 600));
notifier.stopping("child, stopping");
notifier.close();
