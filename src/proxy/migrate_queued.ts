// When a proxy worker dies, the connections queued on its listeners go to the others: Linux's tcp_migrate_req sysctl.

import { readFileSync, writeFileSync } from "node:fs";
import type { Logger } from "../core/log.ts";

const PATH = "/proc/sys/net/ipv4/tcp_migrate_req";

/**
 * Why a sysctl: with global.workers > 1 every process listens on the same address with
 * SO_REUSEPORT. A process that dies (kill -9, a crash) closes its listeners; the kernel stops
 * giving them new connections at once, but by default the connections already queued on them
 * (handshake done, not accepted yet) are reset. net.ipv4.tcp_migrate_req=1 (Linux 5.14+, per
 * network namespace) moves them to another listener of the same group instead. Node cannot attach
 * the BPF program that would do it per socket, so tandem sets the sysctl when it may (root), as
 * it does ip_nonlocal_bind, and says so. Returns whether migration is on.
 */
export function enableQueuedMigration(log: Logger): boolean {
  let current: string;
  try {
    current = readFileSync(PATH, "latin1").trim();
  } catch {
    log.info("This kernel cannot move queued connections between listeners (no net.ipv4.tcp_migrate_req, Linux < 5.14): a proxy worker that dies takes the connections queued on its listeners with it");
    return false;
  }
  if (current === "1") return true;
  try {
    writeFileSync(PATH, "1\n");
    log.warn("Set net.ipv4.tcp_migrate_req=1 so the connections queued on a proxy worker that dies go to the other processes instead of being reset", { sysctl: "net.ipv4.tcp_migrate_req" });
    return true;
  } catch (err) {
    log.warn(`Cannot set net.ipv4.tcp_migrate_req=1 (${(err as Error).message}): a proxy worker that dies takes the connections queued on its listeners with it`);
    return false;
  }
}
