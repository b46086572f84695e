// The stats page's view of the pair: this host and the peer side by side (role, VRRP, health,
// servers up), the link, configuration drift, replication and split brain.
/// <reference lib="dom" />

import type { StatsSnapshot } from "../admin/snapshot.ts";
import type { PairStatus } from "../pair/status.ts";
import { h, table } from "./dom.ts";
import { ago, count } from "./format.ts";

const badge = (text: string, kind = text.toLowerCase()) => h("span", { class: `badge ${kind}` }, text);

interface Side {
  host: string;
  role: string;
  vrrp: string;
  healthy: string;
  servers: string;
  stick: number;
  config: string;
}

function localSide(s: StatsSnapshot, p: PairStatus): Side {
  const up = s.backends.reduce((n, b) => n + b.servers.filter((v) => v.status === "UP" || v.status === "DRAIN").length, 0);
  const all = s.backends.reduce((n, b) => n + b.servers.length, 0);
  return {
    host: s.info.hostname,
    role: s.info.role,
    vrrp: s.vrrp.map((v) => `${v.state.toUpperCase()} ${v.priority}`).join(", ") || "no VRRP",
    healthy: s.frontends.every((f) => f.status === "OPEN") ? "yes" : "listeners waiting",
    servers: `${up}/${all} up`,
    stick: s.backends.reduce((n, b) => n + b.stickEntries, 0),
    config: p.config.hash.slice(0, 12),
  };
}

function peerSide(p: PairStatus): Side | undefined {
  const st = p.peer?.state;
  if (!st) return undefined;
  const up = st.proxy.backends.reduce((n, b) => n + b.up, 0);
  const all = st.proxy.backends.reduce((n, b) => n + b.servers, 0);
  return {
    host: st.hostname,
    role: st.role,
    vrrp: st.vrrp.map((i) => `${i.state.toUpperCase()} ${i.priority}`).join(", ") || "no VRRP",
    healthy: st.healthy.ok ? "yes" : st.healthy.reason,
    servers: `${up}/${all} up`,
    stick: st.proxy.backends.reduce((n, b) => n + b.stickEntries, 0),
    config: st.config.hash.slice(0, 12),
  };
}

/** A warning shown above everything while the hosts run different configurations or are both MASTER. */
export function pairWarnings(p: PairStatus): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (p.config.same === false) {
    const keys = p.config.keys.length ? `: ${p.config.keys.join(", ")}${p.config.more ? ` (+${p.config.more} more)` : ""}` : "";
    out.push(h("div", { class: "warning", id: "pair-drift" }, `Config drift: ${p.peer?.state?.hostname ?? "the peer"} runs another configuration${keys}`));
  }
  for (const b of p.splitBrain) out.push(h("div", { class: "warning", id: "pair-split" }, `Split brain: both hosts are MASTER for VRID ${b.vrid} (${b.instance})`));
  return out;
}

/** The pair card. */
export function pairCard(s: StatsSnapshot, p: PairStatus): HTMLElement {
  const now = s.info.now;
  const me = localSide(s, p);
  const peer = peerSide(p);
  const row = (label: string, f: (x: Side) => string | number) => ({ cells: [label, f(me), peer ? f(peer) : "—"] });
  const link = p.link.state === "up" ? badge("UP", "up") : badge(p.link.state.toUpperCase(), "down");
  const r = p.replication;
  return h(
    "section",
    { class: "card", id: "pair" },
    h("h2", {}, "Pair ", link),
    h("p", { class: "sub" }, `peer ${p.peer?.address ?? "?"} (${p.peer?.role ?? "?"}) · last heard ${ago(now, p.peer?.lastSeen)}${p.link.state !== "up" && p.link.lastError ? ` · ${p.link.lastError}` : ""}`),
    table("pair", ["", "This host", "Peer"], [
      row("Host", (x) => x.host),
      row("Role", (x) => x.role),
      row("VRRP", (x) => x.vrrp),
      row("Healthy", (x) => x.healthy),
      row("Servers", (x) => x.servers),
      row("Stick entries", (x) => count(x.stick)),
      row("Config", (x) => x.config),
    ]),
    h("p", { class: "sub" }, `config ${p.config.same === undefined ? "not compared yet" : p.config.same ? "same on both hosts" : "DIFFERS"} · stick entries sent ${count(r.sentEntries)}, received ${count(r.receivedEntries)} · lag ${r.lagMs === undefined ? "?" : `${Math.round(r.lagMs)} ms`}${r.lastResync ? ` · last resync ${r.lastResync.direction} ${count(r.lastResync.entries)} in ${r.lastResync.ms} ms` : ""} · alerts ${p.alerts.send ? "sent from here" : "sent by the peer"}`),
  );
}
