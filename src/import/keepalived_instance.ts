// One keepalived vrrp_instance (as written in one or both hosts' files) → one tandem VRRP instance:
// roles and priorities, disagreements between the files, traps, tracking, notify, address family.

import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes, YamlPath } from "./notes.ts";
import type { KaHost, KaInstance, KaScript, Val } from "./keepalived_host.ts";
import { controlsHaproxy, proxyCheck } from "./shell_scripts.ts";
import { ipFamily } from "../core/address.ts";

/** Finds the text of a script a config refers to: (path as written, file that names it) → content. */
export type ScriptReader = (path: string, besides: string) => { path: string; text: string } | undefined;

export const ms = (n: number) => (n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

/** The first word of a command when it is a path to a script. */
export const scriptPath = (command: string) => /^(\/|\.\/)\S+/.exec(command.trim())?.[0];

/** One host's side of an instance. */
export interface Side {
  host: KaHost;
  inst: KaInstance;
  priority: number;
}

/** Which host file plays which role (decided once, for every instance). */
export type HostRole = "master" | "backup";

const familyOf = (address: string) => (address.includes(":") ? 6 : 4);

/** The instance's address family: that of its first virtual IP (keepalived's rule). */
export function instanceFamily(inst: KaInstance): 4 | 6 {
  return inst.vips[0] ? familyOf(inst.vips[0].address) : 4;
}

/** The VRRP version keepalived runs: 3 for IPv6 whatever vrrp_version says, else the instance's or the file's. */
export function kaVersion(s: Side): number {
  return instanceFamily(s.inst) === 6 ? 3 : s.inst.version?.v ?? s.host.version?.v ?? 2;
}

/** Reports where the two hosts' files disagree on what must be equal for VRRP to work. */
function agree(m: Side, b: Side, base: YamlPath, notes: ImportNotes): void {
  const check = (what: string, x: Val<unknown> | undefined, y: Val<unknown> | undefined, show: (v: unknown) => string, def?: unknown) => {
    const xv = x?.v ?? def;
    const yv = y?.v ?? def;
    if (JSON.stringify(xv) === JSON.stringify(yv)) return;
    notes.error(m.host.file, x?.line ?? m.inst.line, `the keepalived files disagree on ${what}: ${show(xv)} here, ${show(yv)} in ${b.host.file}:${y?.line ?? b.inst.line}; the master's is used`, base);
  };
  check("virtual_router_id", m.inst.vrid, b.inst.vrid, String);
  const vipSet = (s: Side) => ({ v: s.inst.vips.map((x) => x.address).sort(), line: s.inst.vips[0]?.line ?? s.inst.line });
  check("virtual_ipaddress", vipSet(m), vipSet(b), (v) => (v as string[]).join(" "));
  check("advert_int", m.inst.advert, b.inst.advert, (v) => ms(v as number), 1000);
  check("authentication", m.inst.auth, b.inst.auth, (v) => (v ? `${(v as { type: string }).type} ${(v as { pass?: string }).pass ?? ""}` : "none"));
  const ver = (s: Side) => ({ v: kaVersion(s), line: s.inst.version?.line ?? s.host.version?.line ?? s.inst.line });
  check("the VRRP version", ver(m), ver(b), String);
  const uni = (s: Side) => ({ v: s.inst.unicastPeers ? "unicast" : "multicast", line: s.inst.unicastPeers?.line ?? s.inst.line });
  check("unicast or multicast", uni(m), uni(b), String);
}

/** Track scripts of the instance: replaced by proxy tracking, kept, or reported. */
function tracks(ctx: { out: ImportOutput; notes: ImportNotes; read: ScriptReader }, m: Side, base: YamlPath, pm: number, pb: number): Record<string, unknown> {
  const { notes } = ctx;
  const track: Record<string, unknown> = {};
  const scripts: Record<string, unknown> = {};
  // The weight trap, seen from the host that holds the instance (active/active: maybe the backup role).
  const [hi, lo, hiRole, loRole] = pm >= pb ? [pm, pb, "master", "backup"] : [pb, pm, "backup", "master"];
  const gap = hi - lo;
  const trap = (w: number, label: string, file: string, line: number) => {
    if (gap <= 0 || w === 0 || Math.abs(w) > gap) return false;
    const detail = w > 0 ? `the ${hiRole} has ${hi} and the ${loRole} ${lo} + ${w} = ${lo + w}` : `the ${hiRole} has ${hi} − ${-w} = ${hi + w} and the ${loRole} ${lo}`;
    notes.warn(file, line, `weight trap: ${label} has weight ${w}, which can never move the VIP: while it fails on the ${hiRole}, ${detail}; |weight| must exceed ${hi} − ${lo} = ${gap}`, [...base, "track"]);
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
    notes.warn(m.host.file, s.line, `${label} checks that haproxy runs (${evidence}): replaced by tandem's proxy tracking, "alive and listening" (track.proxy with min_servers: 0, weight ${weight})`, [...base, "track"]);
    proxy ??= { weight, comment: `replaces ${s.name} (${evidence}): the proxy is alive and its listeners bound; weight ${weight}${weight === 0 ? " = FAULT while it is not" : ""}` };
  };
  for (const ref of m.inst.trackScripts) {
    const s = m.host.scripts.get(ref.name);
    if (!s?.command) {
      notes.untranslated(m.host.file, ref.line, `track_script ${ref.name}`, s ? "the vrrp_script has no script line" : "no vrrp_script of that name", [...base, "track"]);
      continue;
    }
    const w = ref.weight ?? s.weight?.v ?? 0;
    const wLine = ref.weight !== undefined ? ref.line : s.weight?.line ?? s.line;
    const inline = proxyCheck(s.command.v);
    const path = scriptPath(s.command.v);
    const file = !inline && path ? ctx.read(path, m.host.file) : undefined;
    if (!inline && path && !file) notes.info(m.host.file, s.command.line, `could not read ${path} to see what it checks: kept as a track script`, [...base, "track"]);
    const found = inline ?? (file ? proxyCheck(file.text) : undefined);
    if (found) {
      replace(s, w, wLine, `${found.evidence}${file ? ` in ${file.path}` : ""}`);
      if (found.restarts) notes.info(m.host.file, s.line, `${file?.path ?? s.name} also started haproxy when it was down: tandem's proxy runs inside tandem; let systemd restart tandem (Restart=on-failure)`, [...base, "track"]);
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
    else notes.untranslated(m.host.file, ref.line, `track_process ${ref.name}`, "only tracking the haproxy process has an equivalent (track.proxy)", [...base, "track"]);
  }
  const interfaces = m.inst.trackInterfaces.map((t) => {
    if (t.weight) trap(t.weight, `track_interface ${t.name}`, m.host.file, t.line);
    return t.weight ? { name: t.name, weight: t.weight } : t.name;
  });
  if (interfaces.length > 0) track.interfaces = interfaces;
  if (proxy) {
    track.proxy = { weight: proxy.weight, min_servers: 0 };
    ctx.out.comments.push({ path: [...base, "track", "proxy"], text: proxy.comment, place: "after" });
  }
  if (Object.keys(scripts).length > 0) track.scripts = scripts;
  return track;
}

/** roles.master / roles.backup with what differs per host; shared settings move up to the instance. */
function roleEntries(r: { master?: Side; backup?: Side }, pm: number, pb: number, v: Record<string, unknown>, base: YamlPath, notes: ImportNotes): Record<string, unknown> {
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
    if (both((s) => s.inst.preemptDelay?.v)) v.preempt_delay = ms(r[sides[0]]!.inst.preemptDelay!.v);
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
    else notes.warn(s.host.file, s.inst.unicastPeers!.line, `no unicast_src_ip: the ${otherRole}'s unicast_peers cannot be derived; add roles.${otherRole}.unicast_peers by hand`, [...base, "roles"]);
    notes.info(s.host.file, s.inst.unicastPeers!.line, `the ${otherRole}'s unicast addresses are this host's, mirrored`, [...base, "roles", otherRole]);
  }
  const order = ["priority", "address_owner", "state", "interface", "router_id", "preempt", "preempt_delay", "unicast_src", "unicast_peers"];
  for (const k of ["master", "backup"]) out[k] = Object.fromEntries(Object.entries(out[k]).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)));
  return out;
}

/** Carries the holder file's `#`/`!` comments to the keys they describe. */
function comments(out: ImportOutput, m: Side, role: HostRole, base: YamlPath, single: boolean): void {
  const c = (path: YamlPath, text: string | undefined) => text && out.comments.push({ path, text, place: "after" });
  const inst = m.inst;
  const node = (line: number | undefined) => (line === undefined ? undefined : m.host.comments.get(line));
  if (single) c([...base, "router_id"], node(m.host.routerId?.line));
  c([...base, "interface"], node(inst.interface?.line));
  c([...base, "roles", role], node(inst.state?.line));
  c([...base, "roles", role, "priority"], node(inst.priority?.line));
  inst.vips.forEach((x, i) => c([...base, "virtual_ips", i], node(x.line)));
  if (single) c(["notify", "email", "smtp"], node(m.host.email.smtp?.line));
  for (const s of m.host.scripts.values()) {
    if (!m.inst.trackScripts.some((r) => r.name === s.name)) continue;
    const data = (lookup(out.data, base) as { track?: { scripts?: Record<string, unknown> } } | undefined)?.track;
    c(data?.scripts?.[s.name] ? [...base, "track", "scripts", s.name] : [...base, "track", "proxy"], node(s.line));
  }
}

function lookup(data: Record<string, unknown>, path: YamlPath): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), data);
}

/** What translating one instance needs: output, notes, the script reader, where it goes. */
export interface InstanceContext {
  out: ImportOutput;
  notes: ImportNotes;
  read: ScriptReader;
  /** Its path in the output: ["vrrp"] for the one-instance form, ["vrrp", "instances", NAME] otherwise. */
  base: YamlPath;
  single: boolean;
}

/**
 * Translates one instance. `r` holds the side of each host file (by the role the host plays);
 * `pm`/`pb` are the master and backup roles' priorities (guessed when one file is missing).
 * Returns the instance's keys; its comments and notes are placed under ctx.base.
 */
export function translateInstance(ctx: InstanceContext, r: { master?: Side; backup?: Side }, pm: number, pb: number): Record<string, unknown> {
  const { notes, base } = ctx;
  // The holder's file is the reference (active/active: the backup role's host for this instance).
  const holderRole: HostRole = r.master && r.backup ? (pm >= pb ? "master" : "backup") : r.master ? "master" : "backup";
  const m = r[holderRole]!;
  if (r.master && r.backup) agree(m, r[holderRole === "master" ? "backup" : "master"]!, base, notes);
  const inst = m.inst;
  const v: Record<string, unknown> = {};
  if (ctx.single && inst.name !== "VI_1") v.name = inst.name;
  const rid = (r.master ?? m).host.routerId;
  if (rid && ctx.single) v.router_id = rid.v;
  if (!inst.interface) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no interface`, base);
  v.interface = inst.interface?.v ?? "eth0";
  if (!inst.vrid) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no virtual_router_id`, base);
  v.virtual_router_id = inst.vrid?.v ?? 1;
  const family = instanceFamily(inst);
  const written = inst.version?.v ?? m.host.version?.v;
  v.version = kaVersion(m);
  if (family === 6 && written === 2) notes.info(m.host.file, inst.version?.line ?? m.host.version!.line, "keepalived runs an IPv6 instance as VRRPv3 whatever vrrp_version says (VRRPv2 is IPv4 only): version 3 is written", [...base, "version"]);
  else if (!written && family === 4) ctx.out.comments.push({ path: [...base, "version"], text: "keepalived's default; 3 for RFC 5798", place: "after" });
  let advert = inst.advert?.v ?? 1000;
  if (v.version === 2 && advert % 1000 !== 0) {
    // VRRPv2 carries whole seconds (RFC 3768 §5.3.7); keepalived rounds such a value as well.
    const rounded = Math.max(1000, Math.round(advert / 1000) * 1000);
    notes.warn(m.host.file, inst.advert!.line, `advert_int ${advert / 1000} is not whole seconds, which VRRPv2 needs: ${rounded / 1000}s is written (or use vrrp_version 3)`, [...base, "advert_interval"]);
    advert = rounded;
  }
  v.advert_interval = ms(advert);
  if (inst.auth && v.version === 3) {
    notes.untranslated(m.host.file, inst.auth.line, "authentication", "VRRPv3 has no authentication (RFC 5798 removed it); keepalived ignores it too", base);
  } else if (inst.auth?.v.type === "PASS" && inst.auth.v.pass !== undefined) {
    v.authentication = { type: "pass", password: inst.auth.v.pass };
    const bytes = Buffer.byteLength(inst.auth.v.pass);
    if (bytes > 8) notes.warn(m.host.file, inst.auth.line, `auth_pass is ${bytes} bytes: keepalived and tandem both send only the first 8 (RFC 3768 §5.3.10), so it is kept as written`, [...base, "authentication"]);
  } else if (inst.auth) notes.untranslated(m.host.file, inst.auth.line, `authentication ${inst.auth.v.type}`, "only simple password authentication (PASS) exists in tandem", base);
  const vips = inst.vips.filter((x) => {
    if (ipFamily(x.address.split("/")[0]) === 0) {
      notes.error(m.host.file, x.line, `virtual_ipaddress "${x.address}" is not an IP address (a template placeholder?): it is left out`, [...base, "virtual_ips"]);
      return false;
    }
    if (familyOf(x.address) === family) return true;
    notes.untranslated(m.host.file, x.line, x.address, `an IPv${familyOf(x.address)} address in an IPv${family} instance: one VRRP instance carries one address family (RFC 5798) and keepalived ignores it too; put it in a vrrp_instance of its own`, [...base, "virtual_ips"]);
    return false;
  });
  if (inst.vips.length === 0) {
    notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no virtual_ipaddress: keepalived runs it for its notify scripts alone (moving an AWS Elastic IP, for one); tandem's VRRP floats virtual IPs: write the address the scripts move under virtual_ips, or keep keepalived for this pair`, base);
  } else if (vips.length === 0) notes.error(m.host.file, inst.line, `vrrp_instance ${inst.name} has no virtual IP`, base);
  v.virtual_ips = vips.map((x) => {
    const label = family === 4 ? x.label : undefined;
    if (x.label && family === 6) notes.untranslated(m.host.file, x.line, `label ${x.label}`, "labels exist for IPv4 addresses only", [...base, "virtual_ips"]);
    return x.dev || label ? { address: x.address, ...(x.dev ? { dev: x.dev } : {}), ...(label ? { label } : {}) } : x.address;
  });
  const track = tracks(ctx, m, base, pm, pb);
  if (Object.keys(track).length > 0) v.track = track;
  const notify: Record<string, string> = {};
  const haproxyNotify = new Map<string, { states: string[]; line: number }>();
  for (const [state, cmd] of Object.entries(inst.notify)) {
    notify[state] = cmd.v;
    const path = scriptPath(cmd.v);
    const text = path ? ctx.read(path, m.host.file)?.text : cmd.v;
    if (text && controlsHaproxy(text)) {
      const key = path ?? cmd.v;
      const seen = haproxyNotify.get(key) ?? { states: [], line: cmd.line };
      seen.states.push(`notify_${state}`);
      haproxyNotify.set(key, seen);
    }
  }
  for (const [what, { states, line }] of haproxyNotify) {
    notes.warn(m.host.file, line, `${states.join(", ")} run${states.length === 1 ? "s" : ""} ${what}, which starts or stops haproxy: tandem replaces haproxy, edit it before the move`, [...base, "notify"]);
  }
  if (Object.keys(notify).length > 0) v.notify = notify;
  const other = r.master && r.backup ? (m === r.master ? r.backup : r.master) : undefined;
  if (other && JSON.stringify(Object.fromEntries(Object.entries(other.inst.notify).map(([k, x]) => [k, x.v]))) !== JSON.stringify(notify)) {
    notes.warn(other.host.file, other.inst.line, `the hosts run different notify scripts: tandem runs the same ones on both (the ${holderRole}'s)`, [...base, "notify"]);
  }
  const garp = { ...Object.fromEntries(Object.entries(m.host.garp).map(([k, x]) => [k, x.v])), ...Object.fromEntries(Object.entries(inst.garp).map(([k, x]) => [k, x.v])) };
  if (Object.keys(garp).length > 0) v.garp = Object.fromEntries(Object.entries(garp).map(([k, n]) => [k, k === "repeat_count" ? n : ms(n)]));
  // Several instances: router_id goes per role (roleEntries writes each host file's).
  v.roles = roleEntries(r, pm, pb, v, base, notes);
  return v;
}

/** Adds the comments of an instance once it is in out.data (they are attached by path). */
export function instanceComments(ctx: InstanceContext, r: { master?: Side; backup?: Side }, pm: number, pb: number): void {
  const holderRole: HostRole = r.master && r.backup ? (pm >= pb ? "master" : "backup") : r.master ? "master" : "backup";
  comments(ctx.out, r[holderRole]!, holderRole, ctx.base, ctx.single);
}
