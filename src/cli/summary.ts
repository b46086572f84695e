// The one-screen summary `tandem --check` prints for a valid file.

import type { TandemConfig } from "../tandem_config.ts";
import { formatDuration } from "../core/duration.ts";
import { withProxies } from "../bgp/config.ts";

function bindsText(c: TandemConfig["frontends"][number]): string {
  const ports = c.binds.reduce((n, b) => n + b.ports.length, 0);
  const hosts = [...new Set(c.binds.map((b) => b.host))];
  return `${c.binds.length} bind${c.binds.length === 1 ? "" : "s"} → ${ports} port${ports === 1 ? "" : "s"} on ${hosts.join(", ")}`;
}

/** Renders the summary lines for config (already resolved for its role). */
export function summarize(config: TandemConfig, warnings: number): string {
  const out: string[] = [];
  out.push(`${config.file}: OK for role ${config.role}${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"} above)` : ""}`);
  const backends = new Map(config.backends.map((b) => [b.name, b]));
  out.push(`proxies: ${config.frontends.length} frontend${config.frontends.length === 1 ? "" : "s"}, ${config.backends.length} backend${config.backends.length === 1 ? "" : "s"}`);
  for (const f of config.frontends) {
    out.push(`  ${f.name} (${f.mode}): ${bindsText(f)}${f.maxconn ? `, maxconn ${f.maxconn}` : ""}`);
    const targets = [...new Set([...f.useBackend.map((u) => u.backend), ...(f.defaultBackend ? [f.defaultBackend] : [])])];
    if (f.useBackend.length) out.push(`    routes: ${f.useBackend.length} rule${f.useBackend.length === 1 ? "" : "s"}, default ${f.defaultBackend ?? "none"}`);
    for (const name of targets) {
      const b = backends.get(name);
      if (!b) continue;
      const stick = b.stick ? `, stick on src (${b.stick.size} entries, expire ${formatDuration(b.stick.expire)})` : "";
      out.push(`    backend ${b.name}: ${b.balance.algorithm}${b.balance.hash === "consistent" ? " (consistent)" : ""}${stick}${b.redispatch ? ", redispatch" : ""}`);
      for (const s of b.servers) {
        const check = s.check ? `${s.check.type} check${s.check.port ? ` port ${s.check.port}` : ""} every ${formatDuration(s.check.interval)} rise ${s.check.rise} fall ${s.check.fall}` : "no check";
        const flags = [s.backup ? "backup" : "", s.disabled ? "disabled" : ""].filter(Boolean).join(" ");
        out.push(`      ${s.name} ${s.address}${s.port ? `:${s.port}` : " (client's port)"} weight ${s.weight}, ${check}${flags ? `, ${flags}` : ""}`);
      }
    }
  }
  for (const b of config.backends) {
    if (!config.frontends.some((f) => f.defaultBackend === b.name || f.useBackend.some((u) => u.backend === b.name))) out.push(`  backend ${b.name}: not used by any frontend`);
  }
  if (config.stats) out.push(`stats: http://${config.stats.bind.text}${config.stats.uri}`);
  for (const v of config.vrrp?.instances ?? []) {
    const group = v.family === 6 ? "ff02::12" : "224.0.0.18";
    out.push(`vrrp: ${v.name}, VRID ${v.vrid}, VRRPv${v.version}${v.family === 6 ? " (IPv6)" : ""} on ${v.interface}, advert ${formatDuration(v.advertInterval)}${v.auth ? ", auth pass" : ""}${v.unicastPeers.length ? `, unicast to ${v.unicastPeers.join(", ")}` : `, multicast ${group}`}${v.syncGroup ? `, sync group ${v.syncGroup}` : ""}`);
    out.push(`  virtual IPs: ${v.virtualIps.map((x) => `${x.cidr.address}/${x.cidr.prefix}${x.dev ? ` dev ${x.dev}` : ""}`).join(", ")}`);
    const plus = v.track.scripts.filter((s) => s.weight > 0).reduce((n, s) => n + s.weight, 0) + v.track.interfaces.filter((i) => i.weight > 0).reduce((n, i) => n + i.weight, 0) + Math.max(0, v.track.proxy?.weight ?? 0);
    out.push(`  this role: ${config.role}, priority ${v.priority}${plus ? ` (effective ${v.priority + plus} while tracked checks pass)` : " (effective)"}, preempt ${v.preempt ? (v.preemptDelay ? `after ${formatDuration(v.preemptDelay)}` : "on") : "off"}`);
    const proxies = v.track.proxy?.proxies;
    const tracks = [
      ...v.track.interfaces.map((i) => `interface ${i.name} (${i.weight ? `weight ${i.weight}` : "FAULT when down"})`),
      ...(v.track.proxy ? [`proxy${proxies === "bound" ? " bound to the VIPs" : proxies ? ` ${proxies.join(", ")}` : ""} (${v.track.proxy.weight ? `weight ${v.track.proxy.weight}` : "FAULT while unhealthy"})`] : []),
      ...v.track.scripts.map((s) => `script ${s.name} (${s.weight ? `weight ${s.weight}` : "FAULT while failing"})`),
    ];
    if (tracks.length) out.push(`  tracking: ${tracks.join(", ")}`);
  }
  for (const g of config.vrrp?.syncGroups ?? []) out.push(`vrrp sync group ${g.name}: ${g.instances.join(", ")} fail over together`);
  const b = config.bgp;
  if (b) {
    const firstV4 = b.peers.find((p) => p.family === 4)?.address;
    out.push(`bgp: AS ${b.localAs}, router ID ${b.routerId ?? `(the address toward ${firstV4})`}, addresses added to ${b.interface} while announced`);
    for (const p of b.peers) {
      const kind = p.as === b.localAs ? "iBGP" : "eBGP";
      out.push(`  peer ${p.name} AS ${p.as} (${kind}, hold ${p.holdTime}s${p.ttl !== undefined ? `, TTL ${p.ttl}` : ""}${p.password ? ", TCP MD5" : ""})`);
    }
    for (const a of withProxies(b, config).announce) out.push(`  announce ${a.prefix.address}/${a.prefix.prefix} while ${(a.proxies ?? []).join(", ")} healthy`);
    out.push(`  start: announce after ${formatDuration(b.announceDelay)}; stop: ${b.gracefulShutdown ? `graceful-shutdown community for ${formatDuration(b.gracefulShutdown)}, ` : ""}withdraw, serve ${formatDuration(b.withdrawWait)} more`);
  }
  const link = config.pair?.link;
  if (link) out.push(`pair: link to the ${link.peer.role} at ${link.peer.address}:${link.port} (this host ${link.self.address} ${link.self.role === "master" ? "dials" : "listens"}), configuration ${config.pair.fingerprint.hash.slice(0, 12)}`);
  for (const n of config.notifiers) {
    out.push(n.type === "email" ? `notify ${n.name}: email to ${n.to.join(", ")} via ${n.smtp.host}:${n.smtp.port}` : `notify ${n.name}: webhook ${n.url}`);
  }
  if (config.alerts.length) out.push(`alerts: ${config.alerts.length}`);
  for (const a of config.alerts) {
    const what = a.schedule ? `${a.schedule}${a.timezone ? ` (${a.timezone})` : ""}: ${Object.keys(a.check ?? {})[0]}` : `on ${a.on}`;
    const active = !a.roles || a.roles.includes(config.role) ? "" : " — inactive for this role";
    out.push(`  ${a.name}: ${what} → ${a.notify.join(", ")}${a.roles ? ` (roles ${a.roles.join(", ")})` : ""}${active}`);
  }
  return out.join("\n");
}
