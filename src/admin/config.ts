// The `stats` section: where the stats page, its CSV/JSON and /metrics are served.

import { z } from "zod";
import { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import { bindText, duration } from "../config/schema_types.ts";
import type { BindSpec } from "../core/address.ts";
import { frontendBinds, writtenBindPath } from "../proxy/config.ts";
import type { ProxyConfig } from "../proxy/config_types.ts";

export const STATS_DEFAULTS = { uri: "/", refresh: 5_000 } as const;

export interface StatsConfig {
  bind: BindSpec;
  uri: string;
  auth?: { user: string; password: string };
  admin: boolean;
  refresh: number;
}

const schema = z.strictObject({
  bind: bindText,
  uri: z.string().optional(),
  auth: z.strictObject({ user: z.string(), password: z.string() }).optional(),
  admin: z.boolean().optional(),
  refresh: duration.optional(),
});

export const statsSection: ConfigSection<{ stats?: StatsConfig }> = {
  name: "stats",
  keys: { stats: schema.optional() },
  normalize(ctx) {
    const s = ctx.input.stats as z.output<typeof schema> | undefined;
    if (!s) return { stats: undefined };
    return { stats: { bind: s.bind, uri: s.uri ?? STATS_DEFAULTS.uri, auth: s.auth, admin: s.admin ?? false, refresh: s.refresh ?? STATS_DEFAULTS.refresh } };
  },
  check(config, ctx, diag) {
    const stats = config.stats as StatsConfig | undefined;
    if (!stats) return;
    // The proxy's section reports clashes among frontends; here only the stats page's own.
    const frontends = (config.frontends ?? []) as ProxyConfig["frontends"];
    const claims = frontendBinds(frontends, new Diagnostics(), writtenBindPath(ctx.input));
    for (const port of stats.bind.ports) claims.claim("stats", stats.bind.host, port, ["stats", "bind"], diag);
  },
};
