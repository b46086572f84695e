// Renders one stats snapshot (the `;json` document) into the page's sections.
/// <reference lib="dom" />

import type { BackendStat, BgpStat, ServerStat, StatsSnapshot, VrrpStat } from "../admin/snapshot.ts";
import { h, table } from "./dom.ts";
import { ago, bytes, count, duration, rate } from "./format.ts";
import { pairCard, pairWarnings } from "./pair.ts";

/** Status words map to badge colours in style.css. */
const badge = (text: string, kind = text.toLowerCase()) => h("span", { class: `badge ${kind}` }, text);

function serverStatus(s: ServerStat, now: number): HTMLElement {
  const since = s.lastChange ? ` for ${duration((now - s.lastChange) / 1000)}` : "";
  const check = s.check ? (s.check.status ? `${s.check.status} ${s.check.detail}, ${s.check.duration} ms` : "check pending") : "no check";
  return h("td", { class: "status", "data-label": "Status" }, badge(s.status), h("span", { class: "since" }, since), h("div", { class: "check" }, check));
}

function actions(s: ServerStat): HTMLElement {
  const button = (action: string, label: string, current: boolean) =>
    h("button", { type: "button", "data-action": action, "data-proxy": s.proxy, "data-server": s.name, disabled: current ? "" : undefined }, label);
  const ready = s.status === "UP" || s.status === "DOWN";
  return h("td", { class: "actions", "data-label": "Set" }, button("ready", "Ready", ready), button("drain", "Drain", s.status === "DRAIN"), button("maint", "Maint", s.status === "MAINT"));
}

function backend(b: BackendStat, now: number, admin: boolean): HTMLElement {
  const headers = ["Server", "Status", "Weight", "Cur/Max/Limit", "Total", "Queue", "Rate/s", "Errors", "In", "Out"];
  if (admin) headers.push("Set");
  const rows = b.servers.map((s) => ({
    attrs: { "data-server": `${s.proxy}/${s.name}`, "data-status": s.status, class: `row-${s.status.toLowerCase()}` },
    cells: [
      h("span", {}, h("b", {}, s.name), s.backup ? h("span", { class: "tag" }, "backup") : undefined, h("div", { class: "sub" }, s.address)),
      serverStatus(s, now),
      s.weight,
      `${s.scur}/${s.smax}/${s.slim ?? "-"}`,
      count(s.stot),
      s.qcur,
      rate(s.rate),
      s.econ ? `${count(s.econ)} (${rate(s.errRate)}/s)` : "0",
      bytes(s.bin),
      bytes(s.bout),
      ...(admin ? [actions(s)] : []),
    ],
  }));
  const summary = `${b.act} active + ${b.bck} backup up · ${b.scur} cur · ${b.qcur} queued · ${rate(b.rate)}/s · ${count(b.stot)} total` + (b.stickEntries ? ` · ${b.stickEntries} stick entries` : "");
  return h(
    "section",
    { class: "card", "data-backend": b.name },
    h("h2", {}, b.name, " ", badge(b.status)),
    h("p", { class: "sub" }, summary),
    table("servers", headers, rows),
  );
}

function vrrp(v: VrrpStat, now: number): HTMLElement {
  const kv = (k: string, val: string | Node) => h("div", { class: "kv" }, h("span", { class: "k" }, k), h("span", { class: "v" }, val));
  return h(
    "section",
    { class: "card vrrp", id: `vrrp-${v.instance}`, "data-instance": v.instance },
    h("h2", {}, `VRRP ${v.instance} `, badge(v.state.toUpperCase(), `vrrp-${v.state}`)),
    h(
      "div",
      { class: "grid" },
      kv("Interface", `${v.interface} · VRID ${v.vrid} · IPv${v.family}${v.syncGroup ? ` · sync group ${v.syncGroup}` : ""}`),
      kv("Priority", `${v.priority} (base ${v.basePriority})`),
      kv("Master", v.master ?? "unknown"),
      kv("VIPs", v.vips.join(", ") || "none"),
      kv("Since", ago(now, v.since)),
      kv("Peer seen", ago(now, v.peerSeen)),
      kv("Adverts", `${count(v.adverts.accepted)} accepted`),
      ...(v.fault ? [kv("Fault", v.fault)] : []),
    ),
    table("track", ["Tracked", "Weight", "State", "Detail"], v.track.map((t) => ({ cells: [t.name, t.weight, badge(t.ok ? "OK" : "FAIL", t.ok ? "up" : "down"), t.detail] }))),
    v.transitions.length
      ? table("transitions", ["When", "Change", "Priority", "Reason"], [...v.transitions].reverse().map((t) => ({ cells: [ago(now, t.at), `${t.from} → ${t.to}`, t.priority, t.reason] })))
      : h("p", { class: "sub" }, "No transitions since start."),
  );
}

function bgp(b: BgpStat, now: number): HTMLElement {
  const up = b.peers.filter((p) => p.state === "established").length;
  const announced = b.announce.filter((a) => a.state === "announced").length;
  return h(
    "section",
    { class: "card", id: "bgp" },
    h("h2", {}, `BGP AS ${b.localAs} `, badge(`${announced}/${b.announce.length} ANNOUNCED`, announced === b.announce.length ? "up" : announced ? "drain" : "down")),
    h("p", { class: "sub" }, `router ID ${b.routerId} · ${up} of ${b.peers.length} sessions established`),
    table("bgp-peers", ["Peer", "AS", "State", "Since", "Hold", "Announced", "Last error"], b.peers.map((p) => ({
      attrs: { "data-peer": p.peer },
      cells: [h("b", {}, p.peer), p.as, badge(p.state.toUpperCase(), `bgp-${p.state}`), ago(now, p.since), p.holdTime !== undefined ? `${p.holdTime}s` : "", p.announced.join(", "), p.lastError ?? ""],
    }))),
    table("bgp-announce", ["Address", "State", "Since", "Why", "Checks"], b.announce.map((a) => ({
      attrs: { "data-prefix": a.prefix },
      cells: [h("b", {}, a.prefix), badge(a.state.toUpperCase(), a.state === "announced" ? "up" : a.state === "waiting" ? "drain" : "down"), ago(now, a.since), a.reason, a.proxies.join(", ")],
    }))),
  );
}

/** Replaces the page's main content with the snapshot. */
export function render(root: HTMLElement, s: StatsSnapshot): void {
  const now = s.info.now;
  const head = document.getElementById("summary");
  if (head) {
    head.replaceChildren(
      h("span", {}, h("b", {}, s.info.hostname), ` · ${s.info.role} · tandem ${s.info.version} · up ${duration(s.info.uptime)} · ${s.info.connections}/${s.info.maxconn} conns`),
    );
  }
  const parts: Node[] = [];
  if (s.pair) parts.push(...pairWarnings(s.pair), pairCard(s, s.pair));
  for (const v of s.vrrp ?? []) parts.push(vrrp(v, now));
  if (s.vrrpGroups?.length) {
    parts.push(h(
      "section",
      { class: "card", id: "vrrp-groups" },
      h("h2", {}, "VRRP sync groups"),
      table("sync-groups", ["Group", "State", "Instances"], s.vrrpGroups.map((g) => ({ attrs: { "data-group": g.name }, cells: [h("b", {}, g.name), badge(g.state.toUpperCase(), `vrrp-${g.state}`), g.instances.join(", ")] }))),
    ));
  }
  if (s.bgp) parts.push(bgp(s.bgp, now));
  if (s.frontends.length) {
    parts.push(
      h(
        "section",
        { class: "card", id: "frontends" },
        h("h2", {}, "Frontends"),
        table(
          "frontends",
          ["Frontend", "Mode", "Status", "Cur", "Held", "Total", "Rate/s", "In", "Out", "Listeners"],
          s.frontends.map((f) => ({
            attrs: { "data-frontend": f.name },
            cells: [h("b", {}, f.name), f.mode, badge(f.status, f.status === "OPEN" ? "up" : "down"), f.scur, f.held, count(f.stot), rate(f.rate), bytes(f.bin), bytes(f.bout), f.listeners.map((l) => `${l.address}${l.bound ? "" : " (waiting)"}`).join(", ")],
          })),
        ),
      ),
    );
  }
  for (const b of s.backends) parts.push(backend(b, now, s.info.admin));
  parts.push(
    h(
      "section",
      { class: "card", id: "alerts" },
      h("h2", {}, "Alerts"),
      h("p", { class: "sub" }, `${s.alerts.activeRules} of ${s.alerts.rules} rules active for this role`),
      s.alerts.notifiers.length
        ? table("notifiers", ["Notifier", "Spool", "Delivered", "Dropped", "Last delivery", "Last error"], s.alerts.notifiers.map((q) => ({
          cells: [q.notifier, q.pending, count(q.delivered), count(q.dropped), ago(now, q.lastDeliveryAt), q.lastError ?? ""],
        })))
        : h("p", { class: "sub" }, "No notifiers configured."),
    ),
  );
  root.replaceChildren(...parts);
}
