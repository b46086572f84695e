// The stats page served on a path of a proxy frontend (a `stats` http_request rule, haproxy's
// `stats uri` in a frontend): the same page, `;csv` and `;json` as the stats section's server,
// read-only, handed to the proxy as a LocalService.

import type { LocalService } from "../proxy/http/request_env.ts";
import { statsCsv } from "./csv.ts";
import type { StatsSnapshot } from "./snapshot.ts";
import { PAGE_CSP, statsPage } from "./stats_page.ts";
import { STATS_DEFAULTS } from "./config.ts";

const COMMON: [string, string][] = [["Cache-Control", "no-cache"], ["X-Content-Type-Options", "nosniff"]];

/**
 * The service for base paths: `base` → the page (its JSON fetched from `base;json`),
 * `base;csv` → CSV, `base;json` → the snapshot. Anything but GET and HEAD gets 405: actions
 * stay on the stats section's own address.
 */
export function frontendStats(snapshot: () => StatsSnapshot): LocalService {
  return (req, base, options) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return { status: 405, body: "Method not allowed: the stats page on a frontend is read-only\n", contentType: "text/plain; charset=utf-8", headers: [["Allow", "GET, HEAD"], ...COMMON] };
    }
    const rest = req.path.slice(base.length);
    if (rest.startsWith(";csv")) return { status: 200, body: Buffer.from(statsCsv(snapshot()), "utf8").toString("latin1"), contentType: "text/csv; charset=utf-8", headers: COMMON };
    if (rest.startsWith(";json")) return { status: 200, body: Buffer.from(JSON.stringify(snapshot()), "utf8").toString("latin1"), contentType: "application/json; charset=utf-8", headers: COMMON };
    const page = statsPage({ title: "tandem stats", jsonUrl: `${base};json`, refresh: options.refresh ?? STATS_DEFAULTS.refresh });
    return {
      status: 200,
      body: Buffer.from(page, "utf8").toString("latin1"),
      contentType: "text/html; charset=utf-8",
      headers: [...COMMON, ["Content-Security-Policy", PAGE_CSP], ["Referrer-Policy", "no-referrer"]],
    };
  };
}
