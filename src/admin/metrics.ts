// Prometheus /metrics: proxy, server, health check, VRRP, BGP and alert spool series, filled from a snapshot on scrape.

import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { StatsSnapshot } from "./snapshot.ts";

const SERVER_STATES = ["UP", "DOWN", "MAINT", "DRAIN"] as const;
const VRRP_STATES = ["init", "backup", "master", "fault", "stopped"] as const;
const BGP_STATES = ["idle", "connect", "opensent", "openconfirm", "established"] as const;

type Labels = Record<string, string>;

/**
 * One registry per process (never prom-client's global one, so tests can run several).
 * update(snapshot) resets every series and sets it again, so removed servers disappear;
 * totals are exported as counters (reset, then incremented to the running total).
 */
export class TandemMetrics {
  readonly registry = new Registry();
  #gauges = new Map<string, Gauge>();
  #counters = new Map<string, Counter>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) {
      try {
        collectDefaultMetrics({ register: this.registry });
      } catch {
        // A runtime without perf_hooks' event-loop monitor (Deno) still gets tandem's own series.
      }
    }
  }

  /**
   * The exposition text for a snapshot. prom-client writes a NaN sample as "Nan" (the event-loop
   * lag mean and stddev of a scrape that follows another within the monitor's resolution); the
   * text format spells it "NaN", and stricter parsers reject anything else.
   */
  async render(s: StatsSnapshot): Promise<string> {
    this.update(s);
    return (await this.registry.metrics()).replace(/ Nan$/gm, " NaN");
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Replaces every tandem_* series with the snapshot's values. */
  update(s: StatsSnapshot): void {
    for (const g of this.#gauges.values()) g.reset();
    for (const c of this.#counters.values()) c.reset();
    const g = (name: string, help: string, labels: Labels, value: number) => this.#gauge(name, help, Object.keys(labels)).set(labels, value);
    const c = (name: string, help: string, labels: Labels, value: number) => this.#counter(name, help, Object.keys(labels)).inc(labels, Math.max(0, value));

    g("tandem_info", "tandem version, role and host (always 1)", { version: s.info.version, role: s.info.role, hostname: s.info.hostname }, 1);
    g("tandem_start_time_seconds", "When this tandem process started, Unix time", {}, s.info.startedAt / 1000);
    g("tandem_current_connections", "Client connections holding a global maxconn slot", {}, s.info.connections);
    g("tandem_max_connections", "global.maxconn", {}, s.info.maxconn);

    for (const f of s.frontends) {
      const l = { proxy: f.name };
      g("tandem_frontend_status", "1 when every listener of the frontend is bound", l, f.status === "OPEN" ? 1 : 0);
      g("tandem_frontend_current_sessions", "Client connections being served", l, f.scur);
      g("tandem_frontend_held_connections", "Accepted connections waiting for a maxconn slot", l, f.held);
      c("tandem_frontend_sessions_total", "Client connections accepted", l, f.stot);
      c("tandem_frontend_bytes_in_total", "Bytes received from clients", l, f.bin);
      c("tandem_frontend_bytes_out_total", "Bytes sent to clients", l, f.bout);
    }
    for (const b of s.backends) {
      const l = { proxy: b.name };
      g("tandem_backend_up", "1 when the backend has a usable server", l, b.status === "UP" ? 1 : 0);
      g("tandem_backend_current_sessions", "Connections holding a server slot", l, b.scur);
      g("tandem_backend_current_queue", "Connections waiting for a server", l, b.qcur);
      g("tandem_backend_active_servers", "Usable active servers", l, b.act);
      g("tandem_backend_backup_servers", "Usable backup servers", l, b.bck);
      g("tandem_backend_weight", "Sum of the weights of usable servers", l, b.weight);
      g("tandem_backend_stick_table_entries", "Entries in the stick table", l, b.stickEntries);
      c("tandem_backend_sessions_total", "Server connections made", l, b.stot);
      c("tandem_backend_bytes_in_total", "Bytes sent to servers", l, b.bin);
      c("tandem_backend_bytes_out_total", "Bytes received from servers", l, b.bout);
      c("tandem_backend_connection_errors_total", "Failed connection attempts to servers", l, b.econ);
      for (const v of b.servers) {
        const sl = { proxy: b.name, server: v.name };
        for (const st of SERVER_STATES) g("tandem_server_status", "Server status: 1 for the current state", { ...sl, state: st }, v.status === st ? 1 : 0);
        g("tandem_server_weight", "Effective weight (0 while draining)", sl, v.weight);
        g("tandem_server_current_sessions", "Connections on the server", sl, v.scur);
        g("tandem_server_max_sessions", "Highest concurrent connections seen", sl, v.smax);
        g("tandem_server_current_queue", "Connections waiting for this server", sl, v.qcur);
        g("tandem_server_last_change_timestamp_seconds", "When the server status last changed, Unix time", sl, v.lastChange / 1000);
        c("tandem_server_sessions_total", "Connections made to the server", sl, v.stot);
        c("tandem_server_bytes_in_total", "Bytes sent to the server", sl, v.bin);
        c("tandem_server_bytes_out_total", "Bytes received from the server", sl, v.bout);
        c("tandem_server_connection_errors_total", "Failed connection attempts", sl, v.econ);
        c("tandem_server_check_up_down_total", "Transitions to DOWN", sl, v.downs);
        if (v.check) {
          g("tandem_server_check_up", "1 when the last health check passed", sl, v.check.ok ? 1 : 0);
          g("tandem_server_check_duration_seconds", "Duration of the last health check", sl, v.check.duration / 1000);
          c("tandem_server_checks_total", "Health checks run", sl, v.check.checks);
          c("tandem_server_check_failures_total", "Health checks failed", sl, v.check.failures);
        }
      }
    }
    for (const v of s.vrrp) {
      const l = { instance: v.instance };
      for (const st of VRRP_STATES) g("tandem_vrrp_state", "VRRP state: 1 for the current state", { ...l, state: st }, v.state === st ? 1 : 0);
      g("tandem_vrrp_info", "VRRP instance: interface, VRID, address family and sync group (always 1)", { ...l, interface: v.interface, vrid: String(v.vrid), family: `ipv${v.family}`, sync_group: v.syncGroup ?? "" }, 1);
      g("tandem_vrrp_priority", "Effective VRRP priority (after tracking)", l, v.priority);
      g("tandem_vrrp_base_priority", "Configured VRRP priority", l, v.basePriority);
      g("tandem_vrrp_vips", "Virtual addresses of the instance", l, v.vips.length);
      c("tandem_vrrp_transitions_total", "VRRP state transitions since start", l, v.transitionCount);
      c("tandem_vrrp_adverts_accepted_total", "Adverts accepted from the peer", l, v.adverts.accepted);
      for (const [reason, count] of Object.entries(v.adverts.dropped)) c("tandem_vrrp_adverts_dropped_total", "Adverts dropped, by reason", { ...l, reason }, count);
      for (const t of v.track) g("tandem_vrrp_track_ok", "1 when the tracked component is fine", { ...l, track: t.name }, t.ok ? 1 : 0);
      if (v.peerSeen !== undefined) g("tandem_vrrp_peer_last_seen_timestamp_seconds", "When an advert from the peer was last accepted, Unix time", l, v.peerSeen / 1000);
    }
    for (const grp of s.vrrpGroups) {
      for (const st of VRRP_STATES) g("tandem_vrrp_sync_group_state", "VRRP sync group state: 1 for the current state", { group: grp.name, state: st }, grp.state === st ? 1 : 0);
    }
    if (s.tls) {
      c("tandem_tls_handshakes_total", "TLS handshakes completed on tls: binds", {}, s.tls.handshakes);
      for (const [reason, count] of Object.entries(s.tls.failures)) c("tandem_tls_handshake_failures_total", "TLS handshakes that failed, by reason", { reason }, count);
      c("tandem_tls_h2_connections_total", "Client connections that chose HTTP/2 (ALPN h2)", {}, s.tls.h2);
      for (const cert of s.tls.certificates) g("tandem_tls_certificate_expiry_timestamp_seconds", "When a served certificate expires, Unix time", { name: cert.name, file: cert.file }, Date.parse(cert.notAfter) / 1000);
    }
    if (s.bgp) {
      for (const p of s.bgp.peers) {
        const l = { peer: p.peer };
        for (const st of BGP_STATES) g("tandem_bgp_session_state", "BGP session state: 1 for the current state", { ...l, state: st }, p.state === st ? 1 : 0);
        g("tandem_bgp_session_up", "1 while the BGP session is established", l, p.state === "established" ? 1 : 0);
        g("tandem_bgp_routes_announced", "Routes the peer holds from us", l, p.announced.length);
        c("tandem_bgp_sessions_established_total", "Times the session was established since start", l, p.established);
        for (const [type, n] of Object.entries(p.messages.sent)) c("tandem_bgp_messages_sent_total", "BGP messages sent, by type", { ...l, type }, n);
        for (const [type, n] of Object.entries(p.messages.received)) c("tandem_bgp_messages_received_total", "BGP messages received, by type", { ...l, type }, n);
      }
      for (const a of s.bgp.announce) {
        const l = { prefix: a.prefix };
        g("tandem_bgp_announced", "1 while the address is announced (healthy)", l, a.state === "announced" ? 1 : 0);
        c("tandem_bgp_announcements_total", "Times the address was announced since start", l, a.announcements);
      }
    }
    if (s.pair) this.#pair(s.pair, g, c);
    g("tandem_alert_rules_active", "Alert rules active for this role", {}, s.alerts.activeRules);
    for (const q of s.alerts.notifiers) {
      const l = { notifier: q.notifier };
      g("tandem_alert_spool_pending", "Messages in the spool waiting for delivery", l, q.pending);
      c("tandem_alert_delivered_total", "Messages delivered", l, q.delivered);
      c("tandem_alert_dropped_total", "Messages dropped (too old or rejected)", l, q.dropped);
      c("tandem_alert_failed_attempts_total", "Failed delivery attempts", l, q.failedAttempts);
      if (q.lastDeliveryAt) g("tandem_alert_last_delivery_timestamp_seconds", "When a message was last delivered, Unix time", l, Date.parse(q.lastDeliveryAt) / 1000);
    }
  }

  /** The pair link: its state, the peer, drift, replication (lag, entries, resyncs) and split brains. */
  #pair(p: NonNullable<StatsSnapshot["pair"]>, g: (n: string, h: string, l: Labels, v: number) => void, c: (n: string, h: string, l: Labels, v: number) => void): void {
    g("tandem_pair_link_up", "1 when the pair link to the peer is up (authenticated)", {}, p.link.state === "up" ? 1 : 0);
    c("tandem_pair_link_connects_total", "Pair link connections established", {}, p.link.connects);
    c("tandem_pair_link_refusals_total", "Pair link handshakes refused (wrong key, role, protocol)", {}, p.link.refusals);
    if (p.peer?.lastSeen !== undefined) g("tandem_pair_peer_last_seen_timestamp_seconds", "When the peer's state was last heard, Unix time", {}, p.peer.lastSeen / 1000);
    if (p.config.same !== undefined) g("tandem_pair_config_same", "1 when both hosts run the same normalized configuration", {}, p.config.same ? 1 : 0);
    const r = p.replication;
    if (r.lagMs !== undefined) g("tandem_pair_replication_lag_seconds", "From a stick change here to the peer's acknowledgement (last batch)", {}, r.lagMs / 1000);
    g("tandem_pair_replication_pending", "Stick changes waiting to be sent to the peer", {}, r.pending);
    c("tandem_pair_stick_sent_total", "Stick entries sent to the peer", {}, r.sentEntries);
    c("tandem_pair_stick_received_total", "Stick entries received from the peer", {}, r.receivedEntries);
    c("tandem_pair_stick_dropped_total", "Stick changes dropped when too many waited (a resync followed)", {}, r.droppedKeys);
    c("tandem_pair_resyncs_total", "Full stick-table resyncs, by direction", { direction: "sent" }, r.resyncsSent);
    c("tandem_pair_resyncs_total", "Full stick-table resyncs, by direction", { direction: "received" }, r.resyncsReceived);
    g("tandem_pair_split_brain", "VRIDs for which both hosts are MASTER now", {}, p.splitBrain.length);
  }

  #gauge(name: string, help: string, labelNames: string[]): Gauge {
    let m = this.#gauges.get(name);
    if (!m) this.#gauges.set(name, (m = new Gauge({ name, help, labelNames, registers: [this.registry] })));
    return m;
  }

  #counter(name: string, help: string, labelNames: string[]): Counter {
    let m = this.#counters.get(name);
    if (!m) this.#counters.set(name, (m = new Counter({ name, help, labelNames, registers: [this.registry] })));
    return m;
  }
}
