// keepalived.conf of one or both hosts → tandem's vrrp section (with roles) and the email notifier.

import type { KaConfig } from "./keepalived_conf.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes } from "./notes.ts";
import { readKeepalivedHost } from "./keepalived_host.ts";
import type { KaHost, KaInstance, KaScript, Val } from "./keepalived_host.ts";
import { controlsHaproxy, proxyCheck } from "./shell_scripts.ts";
import { isIP } from "node:net";

/** Finds the text of a script a config refers to: (path as written, file that names it) → content. */
export type ScriptReader = (path: string, besides: string) => { path: string; text: string } | undefined;

export interface KeepalivedResult {
  /** The VIP addresses (without prefix). */
  vips: string[];
  /** Name of the email notifier written under notify:, if any. */
  notifier?: string;
  /** smtp_alert as configured: true/false when written, undefined when keepalived's default applies. */
  smtpAlert?: { value: boolean | undefined; file: string; line: number };
  /** Which file describes which host. */
  files: { master?: string; backup?: string };
}

const ms = (n: number) => (n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

/** The first word of a command when it is a path to a script. */
const scriptPath = (command: string) => /^(\/|\.\/)\S+/.exec(command.trim())?.[0];

interface Side {
  host: KaHost;
  inst: KaInstance;
  priority: number;
}

function pickInstance(host: KaHost, like: KaInstance | undefined, notes: ImportNotes): KaInstance | undefined {
  const chosen = (like && (host.instances.find((i) => i.name === like.name) ?? host.instances.find((i) => i.vrid?.v === like.vrid?.v))) ?? host.instances[0];
  for (const i of host.instances) {
    if (i !== chosen) notes.refused(host.file, i.line, `vrrp_instance ${i.name}`, `tandem runs one VRRP instance; ${chosen?.name} is imported and the addresses of ${i.name} would float no more`, "routing", ["vrrp"]);
  }
  return chosen;
}

/** Decides which file is the master: state MASTER, else the higher priority, else the first. */
function roles(a: Side, b: Side | undefined, notes: ImportNotes): { master?: Side; backup?: Side } {
  if (!b) return a.inst.state?.v === "BACKUP" ? { backup: a } : { master: a };
  const am = a.inst.state?.v === "MASTER";
  const bm = b.inst.state?.v === "MASTER";
  if (am !== bm) return am ? { master: a, backup: b } : { master: b, backup: a };
  if (a.priority !== b.priority) return a.priority > b.priority ? { master: a, backup: b } : { master: b, backup: a };
  notes.warn(a.host.file, a.inst.priority?.line ?? a.inst.line, `both hosts have state ${a.inst.state?.v ?? "unset"} and priority ${a.priority}: ${a.host.file} is taken as the master`, ["vrrp", "roles"]);
  return { master: a, backup: b };
}

/** Reports where the two hosts' files disagree on what must be equal for VRRP to work. */
function agree(m: Side, b: Side, version: (s: Side) => number, notes: ImportNotes): void {
  const check = (what: string, x: Val<unknown> | undefined, y: Val<unknown> | undefined, show: (v: unknown) => string, def?: unknown) => {
    const xv = x?.v ?? def;
    const yv = y?.v ?? def;
    if (JSON.stringify(xv) === JSON.stringify(yv)) return;
    notes.error(m.host.file, x?.line ?? m.inst.line, `the keepalived files disagree on ${what}: ${show(xv)} here, ${show(yv)} in ${b.host.file}:${y?.line ?? b.inst.line}; the master's is used`, ["vrrp"]);
  };
  check("virtual_router_id", m.inst.vrid, b.inst.vrid, String);
  const vipSet = (s: Side) => ({ v: s.inst.vips.map((x) => x.address).sort(), line: s.inst.vips[0]?.line ?? s.inst.line });
  check("virtual_ipaddress", vipSet(m), vipSet(b), (v) => (v as string[]).join(" "));
  check("advert_int", m.inst.advert, b.inst.advert, (v) => ms(v as number), 1000);
  check("authentication", m.inst.auth, b.inst.auth, (v) => (v ? `${(v as { type: string }).type} ${(v as { pass?: string }).pass ?? ""}` : "none"));
  check("the VRRP version", { v: version(m), line: m.inst.version?.line ?? m.host.version?.line ?? m.inst.line }, { v: version(b), line: b.inst.version?.line ?? b.host.version?.line ?? b.inst.line }, String);
  const uni = (s: Side) => ({ v: s.inst.unicastPeers ? "unicast" : "multicast", line: s.inst.unicastPeers?.line ?? s.inst.line });
  check("unicast or multicast", uni(m), uni(b), String);
}

/** Track scripts of the master's instance: replaced by proxy tracking, kept, or reported. */
function tracks(ctx: { out: ImportOutput; notes: ImportNotes; read: ScriptReader }, m: Side, gap: number | undefined, pm: number, pb: number): Record<string, unknown> {
  const { notes } = ctx;
  const track: Record<string, unknown> = {};
  const scripts: Record<string, unknown> = {};
  const trap = (w: number, label: string, file: string, line: number) => {
    if (gap === undefined || gap <= 0 || w === 0 || Math.abs(w) > gap) return false;
    const detail = w > 0 ? `the master has ${pm} and the backup ${pb} + ${w} = ${pb + w}` : `the master has ${pm} − ${-w} = ${pm + w} and the backup ${pb}`;
    notes.warn(file, line, `weight trap: ${label} has weight ${w}, which can never move the VIP: while it fails on the master, ${detail}; |weight| must exceed ${pm} − ${pb} = ${gap}`, ["vrrp", "track"]);
    return true;
  };
  let proxy: { weight: number; comment: string } | undefined;
  // A process check asks "is haproxy running?": tandem's proxy is alive and its listeners are
  // bound (min_servers: 0), not "every backend has a server up", which would take the VIP away
  // from every service when one backend has none (a Patroni write backend during a failover).
  const replace = (s: KaScript, w: number, line: number, evidence: string) => {
    const label = `${s.process ? "vrrp_track_process" : "vrrp_script"} ${s.name}`;
    const trapped = trap(w, label, m.host.file, line);
    const weight = trapped ? 0 : w;
    notes.warn(m.host.file, s.line, `${label} checks that haproxy runs (${evidence}): replaced by tandem's proxy tracking, "alive and listening" (track.proxy with min_servers: 0, weight ${weight})`, ["vrrp", "track"]);
    proxy ??= { weight, comment: `replaces ${s.name} (${evidence}): the proxy is alive and its listeners bound; weight ${weight}${weight === 0 ? " = FAULT while it is not" : ""}` };
  };
  for (const ref of m.inst.trackScripts) {
    const s = m.host.scripts.get(ref.name);
    if (!s?.command) {
      notes.untranslated(m.host.file, ref.line, `track_script ${ref.name}`, s ? "the vrrp_script has no script line" : "no vrrp_script of that name", ["vrrp", "track"]);
      continue;
    }
    const w = ref.weight ?? s.weight?.v ?? 0;
    const wLine = ref.weight !== undefined ? ref.line : s.weight?.line ?? s.line;
    const inline = proxyCheck(s.command.v);
    const path = scriptPath(s.command.v);
    const file = !inline && path ? ctx.read(path, m.host.file) : undefined;
    if (!inline && path && !file) notes.info(m.host.file, s.command.line, `could not read ${path} to see what it checks: kept as a track script`, ["vrrp", "track"]);
    const found = inline ?? (file ? proxyCheck(file.text) : undefined);
    if (found) {
      replace(s, w, wLine, `${found.evidence}${file ? ` in ${file.path}` : ""}`);
      if (found.restarts) notes.info(m.host.file, s.line, `${file?.path ?? s.name} also started haproxy when it was down: tandem's proxy runs inside tandem; let systemd restart tandem (Restart=on-failure)`, ["vrrp", "track"]);
      continue;
    }
    trap(w, `vrrp_script ${s.name}`, m.host.file, wLine);
    // keepalived runs a script every second unless told otherwise.
    scripts[ref.name] = {
      command: s.command.v,
      interval: ms(s.interval ?? 1000),
      ...(s.timeout !== undefined ? { timeout: ms(s.timeout) } : {}),
      ...(s.rise !== undefined ? { rise: s.rise } : {}),
      ...(s.fall !== undefined ? { fall: s.fall } : {}),
      ...(w !== 0 ? { weight: w } : {}),
    };
  }
  for (const ref of m.inst.trackProcesses) {
    const p = m.host.processes.get(ref.name);
    if (p?.process === "haproxy") replace(p, ref.weight ?? p.weight?.v ?? 0, ref.line, "process haproxy");
    else notes.untranslated(m.host.file, ref.line, `track_process ${ref.name}`, "only tracking the haproxy process has an equivalent (track.proxy)", ["vrrp", "track"]);
  }
  const interfaces = m.inst.trackInterfaces.map((t) => {
    if (t.weight) trap(t.weight, `track_interface ${t.name}`, m.host.file, t.line);
    return t.weight ? { name: t.name, weight: t.weight } : t.name;
  });
  if (interfaces.length > 0) track.interfaces = interfaces;
  if (proxy) {
    track.proxy = { weight: proxy.weight, min_servers: 0 };
    ctx.out.comments.push({ path: ["vrrp", "track", "proxy"], text: proxy.comment, place: "after" });
  }
  if (Object.keys(scripts).length > 0) track.scripts = scripts;
  for (const [name, s] of m.host.scripts) {
    if (!m.inst.trackScripts.some((r) => r.name === name)) notes.untranslated(m.host.file, s.line, `vrrp_script ${name}`, "no instance tracks it", ["vrrp", "track"]);
  }
  return track;
}

/** The notifier from global_defs, or undefined when keepalived could not have sent mail. */
function emailNotifier(host: KaHost, out: ImportOutput, notes: ImportNotes): string | undefined {
  const e = host.email;
  if (!e.smtp || e.to.length === 0) {
    const line = e.smtp?.line ?? e.toLine ?? e.from?.line;
    if (line) notes.untranslated(host.file, line, e.smtp ? "smtp_server" : "notification_email", e.smtp ? "no notification_email: nobody to mail" : "no smtp_server: nothing could send the mail", ["notify"]);
    return undefined;
  }
  const smtp: Record<string, unknown> = { host: e.smtp.v.host, port: e.smtp.v.port ?? 25 };
  if (e.timeout) smtp.connect_timeout = ms(e.timeout.v);
  if (e.helo) smtp.helo = e.helo.v;
  if (!e.from) notes.info(host.file, e.toLine ?? 0, "no notification_email_from: keepalived used keepalived@<hostname>; tandem needs one, keepalived@localhost is written", ["notify", "email", "from"]);
  out.data.notify = { email: { smtp, from: e.from?.v ?? "keepalived@localhost", to: e.to } };
  return "email";
}

/**
 * Translates the keepalived.conf of one host (primary) or of both (primary and other) into
 * out.data.vrrp and out.data.notify, reporting disagreements, traps and what did not translate.
 */
export function translateKeepalived(primary: KaConfig, other: KaConfig | undefined, out: ImportOutput, notes: ImportNotes, read: ScriptReader): KeepalivedResult {
  const ha = readKeepalivedHost(primary, notes);
  const hb = other ? readKeepalivedHost(other, notes) : undefined;
  const ia = pickInstance(ha, undefined, notes);
  const ib = hb ? pickInstance(hb, ia, notes) : undefined;
  const notifier = emailNotifier(ha, out, notes) ?? (hb ? emailNotifier(hb, out, notes) : undefined);
  if (!ia) {
    notes.warn(primary.file, 0, "no vrrp_instance: no vrrp section is written", ["vrrp"]);
    return { vips: [], notifier, files: {} };
  }
  const side = (host: KaHost, inst: KaInstance): Side => ({ host, inst, priority: inst.priority?.v ?? 100 });
  const r = roles(side(ha, ia), hb && ib ? side(hb, ib) : undefined, notes);
  const m = r.master ?? r.backup!;
  const version = (s: Side) => s.inst.version?.v ?? s.host.version?.v ?? 2;
  if (r.master && r.backup) agree(r.master, r.backup, version, notes);
  // With one file, the other host's priority is a guess the user must confirm.
  const pm = r.master?.priority ?? Math.min(254, r.backup!.priority + 50);
  const pb = r.backup?.priority ?? Math.max(1, pm - 50);
  if (!r.master || !r.backup) {
    const known = r.master ? "master" : "backup";
    notes.warn(m.host.file, m.inst.priority?.line ?? m.inst.line, `only the ${known}'s keepalived.conf was given: the ${known === "master" ? "backup" : "master"}'s priority is assumed to be ${known === "master" ? pb : pm}; check roles: (or pass --keepalived-backup)`, ["vrrp", "roles"]);
  }
  const inst = m.inst;
  const v: Record<string, unknown> = {};
  if (inst.name !== "VI_1") v.name = inst.name;
  const rid = (r.master ?? m).host.routerId;
  if (rid) v.router_id = rid.v;
  if (!inst.interface) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no interface`, ["vrrp"]);
  v.interface = inst.interface?.v ?? "eth0";
  if (!inst.vrid) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no virtual_router_id`, ["vrrp"]);
  v.virtual_router_id = inst.vrid?.v ?? 1;
  v.version = version(m);
  if (!inst.version && !m.host.version) out.comments.push({ path: ["vrrp", "version"], text: "keepalived's default; 3 for RFC 5798", place: "after" });
  let advert = inst.advert?.v ?? 1000;
  if (v.version === 2 && advert % 1000 !== 0) {
    // VRRPv2 carries whole seconds (RFC 3768 §5.3.7); keepalived rounds such a value as well.
    const rounded = Math.max(1000, Math.round(advert / 1000) * 1000);
    notes.warn(m.host.file, inst.advert!.line, `advert_int ${advert / 1000} is not whole seconds, which VRRPv2 needs: ${rounded / 1000}s is written (or use vrrp_version 3)`, ["vrrp", "advert_interval"]);
    advert = rounded;
  }
  v.advert_interval = ms(advert);
  if (inst.auth && v.version === 3) {
    notes.untranslated(m.host.file, inst.auth.line, "authentication", "VRRPv3 has no authentication (RFC 5798 removed it); keepalived ignores it too", ["vrrp"]);
  } else if (inst.auth?.v.type === "PASS" && inst.auth.v.pass !== undefined) {
    v.authentication = { type: "pass", password: inst.auth.v.pass };
    const bytes = Buffer.byteLength(inst.auth.v.pass);
    if (bytes > 8) notes.warn(m.host.file, inst.auth.line, `auth_pass is ${bytes} bytes: keepalived and tandem both send only the first 8 (RFC 3768 §5.3.10), so it is kept as written`, ["vrrp", "authentication"]);
  }
  else if (inst.auth) notes.untranslated(m.host.file, inst.auth.line, `authentication ${inst.auth.v.type}`, "only simple password authentication (PASS) exists in tandem", ["vrrp"]);
  const vips = inst.vips.filter((x) => {
    if (x.address.includes(":")) {
      notes.refused(m.host.file, x.line, x.address, "IPv6 virtual IPs are not supported: VRRP for IPv6 needs its own instance", "routing", ["vrrp", "virtual_ips"]);
      return false;
    }
    if (isIP(x.address.split("/")[0]) !== 4 || !/^\d+\.\d+\.\d+\.\d+(\/\d{1,2})?$/.test(x.address)) {
      notes.error(m.host.file, x.line, `"${x.address}" is not an IPv4 address${/^[A-Z_]+$/.test(x.address) ? " (a template placeholder left in the file?)" : ""}: write the virtual IP`, ["vrrp", "virtual_ips"]);
      return false;
    }
    return true;
  });
  if (inst.vips.length === 0) {
    notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no virtual_ipaddress: keepalived runs it for its notify scripts alone (moving an AWS Elastic IP, for one); tandem's VRRP floats virtual IPs: write the address the scripts move under vrrp.virtual_ips, or keep keepalived for this pair`, ["vrrp"]);
  } else if (vips.length === 0) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no IPv4 virtual IP`, ["vrrp"]);
  v.virtual_ips = vips.map((x) => (x.dev || x.label ? { address: x.address, ...(x.dev ? { dev: x.dev } : {}), ...(x.label ? { label: x.label } : {}) } : x.address));
  const gap = pm - pb;
  const track = tracks({ out, notes, read }, m, gap, pm, pb);
  if (Object.keys(track).length > 0) v.track = track;
  const notify: Record<string, string> = {};
  const haproxyNotify = new Map<string, { states: string[]; line: number }>();
  for (const [state, cmd] of Object.entries(inst.notify)) {
    notify[state] = cmd.v;
    const path = scriptPath(cmd.v);
    const text = path ? read(path, m.host.file)?.text : cmd.v;
    if (text && controlsHaproxy(text)) {
      const key = path ?? cmd.v;
      const seen = haproxyNotify.get(key) ?? { states: [], line: cmd.line };
      seen.states.push(`notify_${state}`);
      haproxyNotify.set(key, seen);
    }
  }
  for (const [what, { states, line }] of haproxyNotify) {
    notes.warn(m.host.file, line, `${states.join(", ")} run${states.length === 1 ? "s" : ""} ${what}, which starts or stops haproxy: tandem replaces haproxy, edit it before the move`, ["vrrp", "notify"]);
  }
  if (Object.keys(notify).length > 0) v.notify = notify;
  const other2 = r.master && r.backup ? (m === r.master ? r.backup : r.master) : undefined;
  if (other2 && JSON.stringify(Object.fromEntries(Object.entries(other2.inst.notify).map(([k, x]) => [k, x.v]))) !== JSON.stringify(notify)) {
    notes.warn(other2.host.file, other2.inst.line, "the hosts run different notify scripts: tandem runs the same ones on both (the master's)", ["vrrp", "notify"]);
  }
  const garp = { ...Object.fromEntries(Object.entries(m.host.garp).map(([k, x]) => [k, x.v])), ...Object.fromEntries(Object.entries(inst.garp).map(([k, x]) => [k, x.v])) };
  if (Object.keys(garp).length > 0) v.garp = Object.fromEntries(Object.entries(garp).map(([k, n]) => [k, k === "repeat_count" ? n : ms(n)]));
  v.roles = roleEntries(r, pm, pb, v, notes);
  out.data.vrrp = v;
  comments(out, m, r.master === m ? "master" : "backup");
  const alertSrc = inst.smtpAlert ?? m.host.smtpAlert;
  return {
    vips: inst.vips.map((x) => x.address.split("/")[0]),
    notifier,
    smtpAlert: { value: alertSrc?.v, file: m.host.file, line: alertSrc?.line ?? m.host.email.toLine ?? inst.line },
    files: { master: r.master?.host.file, backup: r.backup?.host.file },
  };
}

/** roles.master / roles.backup with what differs per host; shared settings move up to vrrp. */
function roleEntries(r: { master?: Side; backup?: Side }, pm: number, pb: number, v: Record<string, unknown>, notes: ImportNotes): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = { master: { priority: pm }, backup: { priority: pb } };
  const sides = (["master", "backup"] as const).filter((k) => r[k]);
  for (const k of ["master", "backup"] as const) {
    // keepalived treats priority 255 as the owner of the address (RFC 5798 §5.2.4).
    if (out[k].priority === 255) out[k].address_owner = true;
  }
  for (const k of sides) {
    const s = r[k]!;
    const e = out[k];
    if (s.inst.state && s.inst.state.v.toLowerCase() !== k) e.state = s.inst.state.v.toLowerCase();
    if (s.inst.interface && s.inst.interface.v !== v.interface) e.interface = s.inst.interface.v;
    if (s.host.routerId && s.host.routerId.v !== v.router_id) e.router_id = s.host.routerId.v;
  }
  const both = <T>(get: (s: Side) => T | undefined) => sides.length === 2 && JSON.stringify(get(r.master!)) === JSON.stringify(get(r.backup!));
  if (sides.some((k) => r[k]!.inst.nopreempt)) {
    if (both((s) => s.inst.nopreempt?.v)) v.preempt = false;
    else for (const k of sides) if (r[k]!.inst.nopreempt) out[k].preempt = false;
  }
  if (sides.some((k) => r[k]!.inst.preemptDelay)) {
    if (both((s) => s.inst.preemptDelay?.v)) v.preempt_delay = ms(r.master!.inst.preemptDelay!.v);
    else for (const k of sides) if (r[k]!.inst.preemptDelay) out[k].preempt_delay = ms(r[k]!.inst.preemptDelay!.v);
  }
  for (const k of sides) {
    const s = r[k]!;
    if (s.inst.unicastSrc) out[k].unicast_src = s.inst.unicastSrc.v;
    if (s.inst.unicastPeers) out[k].unicast_peers = s.inst.unicastPeers.v;
  }
  if (sides.length === 1 && r[sides[0]]!.inst.unicastPeers) {
    // One file: the other host's unicast settings mirror this one's.
    const known = sides[0];
    const otherRole = known === "master" ? "backup" : "master";
    const s = r[known]!;
    const peers = s.inst.unicastPeers!.v;
    if (peers.length === 1) out[otherRole].unicast_src = peers[0];
    if (s.inst.unicastSrc) out[otherRole].unicast_peers = [s.inst.unicastSrc.v];
    else notes.warn(s.host.file, s.inst.unicastPeers!.line, `no unicast_src_ip: the ${otherRole}'s unicast_peers cannot be derived; add roles.${otherRole}.unicast_peers by hand`, ["vrrp", "roles"]);
    notes.info(s.host.file, s.inst.unicastPeers!.line, `the ${otherRole}'s unicast addresses are this host's, mirrored`, ["vrrp", "roles", otherRole]);
  }
  const order = ["priority", "address_owner", "state", "interface", "router_id", "preempt", "preempt_delay", "unicast_src", "unicast_peers"];
  for (const k of ["master", "backup"]) out[k] = Object.fromEntries(Object.entries(out[k]).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
  return out;
}

/** Carries the master file's `#`/`!` comments to the keys they describe. */
function comments(out: ImportOutput, m: Side, role: string): void {
  const c = (path: (string | number)[], text: string | undefined) => text && out.comments.push({ path, text, place: "after" });
  const inst = m.inst;
  const node = (line: number | undefined) => (line === undefined ? undefined : findComment(m.host, line));
  c(["vrrp", "router_id"], node(m.host.routerId?.line));
  c(["vrrp", "interface"], node(inst.interface?.line));
  c(["vrrp", "roles", role], node(inst.state?.line));
  c(["vrrp", "roles", role, "priority"], node(inst.priority?.line));
  inst.vips.forEach((x, i) => c(["vrrp", "virtual_ips", i], node(x.line)));
  c(["notify", "email", "smtp"], node(m.host.email.smtp?.line));
  for (const s of m.host.scripts.values()) {
    if (!m.inst.trackScripts.some((r) => r.name === s.name)) continue;
    const data = (out.data.vrrp as { track?: { scripts?: Record<string, unknown> } }).track;
    c(data?.scripts?.[s.name] ? ["vrrp", "track", "scripts", s.name] : ["vrrp", "track", "proxy"], node(s.line));
  }
}

function findComment(host: KaHost, line: number): string | undefined {
  return host.comments.get(line);
}
