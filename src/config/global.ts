// The `global` section: process-wide settings every subsystem reads (limits, files, names).

import { availableParallelism, hostname } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import type { ConfigSection } from "./section.ts";
import { duration, fileMode, int } from "./schema_types.ts";
import type { GlobalConfig } from "./types.ts";

export const GLOBAL_DEFAULTS = { maxconn: 10_000, stateDir: "/var/lib/tandem", gracePeriod: 10_000 } as const;

const schema = z.strictObject({
  maxconn: int(1, 10_000_000).optional(),
  pidfile: z.string().optional(),
  admin_socket: z.union([z.string(), z.strictObject({ path: z.string(), mode: fileMode.optional() })]).optional(),
  workers: z.union([int(1, 256), z.literal("auto")]).optional(),
  state_dir: z.string().optional(),
  hostname: z.string().optional(),
  grace_period: duration.optional(),
});

type GlobalInput = z.output<typeof schema>;

/**
 * Relative paths are relative to the working directory, as for haproxy and keepalived (so one
 * file can serve two lab hosts started in their own directories); made absolute once, here.
 */
export const absolutePath = (p: string): string => resolve(p);

export const globalSection: ConfigSection<{ global: GlobalConfig }> = {
  name: "global",
  keys: { global: schema.optional() },
  normalize(ctx) {
    const g = (ctx.input.global ?? {}) as GlobalInput;
    const adminSocket = g.admin_socket === undefined ? undefined : typeof g.admin_socket === "string" ? { path: absolutePath(g.admin_socket), mode: 0o600 } : { path: absolutePath(g.admin_socket.path), mode: g.admin_socket.mode ?? 0o600 };
    return {
      global: {
        maxconn: g.maxconn ?? GLOBAL_DEFAULTS.maxconn,
        pidfile: g.pidfile === undefined ? undefined : absolutePath(g.pidfile),
        adminSocket,
        // One process unless asked: with several, queues, maxconn and round-robin positions are per
        // process (see docs/config.md), and on 2 cores one process measured as fast (docs/performance.md).
        workers: g.workers === "auto" ? availableParallelism() : g.workers ?? 1,
        stateDir: absolutePath(g.state_dir ?? GLOBAL_DEFAULTS.stateDir),
        hostname: g.hostname ?? hostname(),
        gracePeriod: g.grace_period ?? GLOBAL_DEFAULTS.gracePeriod,
      },
    };
  },
};
