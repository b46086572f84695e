// The admin subsystem: the runtime API on global.admin_socket and the stats page/metrics on stats.bind.

import pkg from "../../package.json" with { type: "json" };
import type { TimerHandle } from "../core/clock.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import type { TandemConfig } from "../tandem_config.ts";
import { TandemMetrics } from "./metrics.ts";
import { RuntimeApi } from "./runtime_api.ts";
import { SnapshotBuilder } from "./snapshot.ts";
import { AdminSocket } from "./socket_server.ts";
import { StatsHttpServer } from "./stats_http.ts";
import { frontendStats } from "./frontend_stats.ts";
import { VrrpHistory } from "./vrrp_history.ts";

/** How often the VRRP advert counter is sampled to know when the peer was last heard. */
const PEER_SAMPLE_MS = 1000;

const sameSocket = (a: TandemConfig, b: TandemConfig) => a.global.adminSocket?.path === b.global.adminSocket?.path && a.global.adminSocket?.mode === b.global.adminSocket?.mode;
const sameBind = (a: TandemConfig, b: TandemConfig) => a.stats?.bind.text === b.stats?.bind.text;

/**
 * Creates the admin subsystem (create it last: it reads every other subsystem's service).
 * Subscribes to VRRP events at once, so transitions during start-up are kept. start() listens
 * on the admin socket and the stats address when configured (a failure throws and names the
 * path or address); reload() re-listens only when the path/mode or bind changed; stop() closes
 * both and removes the socket file. `reload` on the socket calls ctx.services.reload.
 */
export function createAdminSubsystem(ctx: SubsystemContext<TandemConfig>): Subsystem<TandemConfig> {
  const log = ctx.log.child("admin");
  let config = ctx.config;
  const history = new VrrpHistory(ctx.bus);
  const builder = new SnapshotBuilder({ services: ctx.services, clock: ctx.clock, history, version: pkg.version });
  const snapshot = () => builder.build(config);
  const api = new RuntimeApi({ services: ctx.services, snapshot });
  const run = (command: string) => {
    log.debug("admin command", { command });
    return api.execute(command);
  };
  const metrics = new TandemMetrics();
  let socket: AdminSocket | undefined;
  let stats: StatsHttpServer | undefined;
  let sampler: TimerHandle | undefined;
  let running = false;

  const openSocket = async (cfg: TandemConfig) => {
    const a = cfg.global.adminSocket;
    if (!a) return undefined;
    const s = new AdminSocket({ path: a.path, mode: a.mode, run, log });
    await s.listen();
    log.info(`Admin socket listening on ${a.path} (mode ${a.mode.toString(8).padStart(4, "0")})`);
    return s;
  };
  const openStats = async (cfg: TandemConfig) => {
    if (!cfg.stats) return undefined;
    const s = new StatsHttpServer(cfg.stats, { snapshot, metrics, run, log });
    await s.listen();
    log.info(`Stats page on http://${cfg.stats.bind.text}${cfg.stats.uri}, metrics at /metrics${cfg.stats.admin ? ", actions allowed" : ""}`);
    return s;
  };
  const sample = () => {
    if (!running) return;
    for (const v of ctx.services.vrrp?.status().instances ?? []) history.observeAdverts(v.instance, v.received.accepted, ctx.clock.wallNow());
    sampler = ctx.clock.setTimeout(sample, PEER_SAMPLE_MS);
  };

  return {
    name: "admin",
    async start() {
      running = true;
      // `stats` rules of proxy frontends serve the same page through the proxy.
      ctx.services.proxy?.provide("stats", frontendStats(snapshot));
      socket = await openSocket(config);
      try {
        stats = await openStats(config);
      } catch (err) {
        await socket?.close();
        socket = undefined;
        throw err;
      }
      sample();
    },
    /** Opens what changed before closing what it replaces: a failure (a stats port taken) keeps both as they were, and throws. */
    async reload(next) {
      const samePath = config.global.adminSocket?.path === next.global.adminSocket?.path;
      // A mode change on the same path re-creates the socket file in place: closed first.
      if (!sameSocket(config, next) && samePath) {
        await socket?.close();
        socket = undefined;
      }
      const nextSocket = sameSocket(config, next) && socket ? socket : await openSocket(next);
      let nextStats: StatsHttpServer | undefined;
      try {
        nextStats = sameBind(config, next) ? stats : await openStats(next);
      } catch (err) {
        if (nextSocket !== socket) await nextSocket?.close();
        throw err;
      }
      if (nextSocket !== socket) await socket?.close();
      if (nextStats !== stats) await stats?.close();
      socket = nextSocket;
      stats = nextStats;
      config = next;
      if (stats && next.stats) stats.config = next.stats;
    },
    async stop() {
      running = false;
      ctx.services.proxy?.provide("stats", undefined);
      sampler?.cancel();
      history.close();
      await Promise.all([socket?.close(), stats?.close()]);
      socket = undefined;
      stats = undefined;
    },
  };
}
