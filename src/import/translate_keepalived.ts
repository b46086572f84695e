// keepalived.conf of one or both hosts → tandem's vrrp section (with roles) and the email notifier:
// one instance in the one-instance form, several by name with their sync groups.

import type { KaConfig } from "./keepalived_conf.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes, YamlPath } from "./notes.ts";
import { readKeepalivedHost } from "./keepalived_host.ts";
import type { KaHost, KaInstance } from "./keepalived_host.ts";
import { instanceComments, instanceFamily, ms, translateInstance, type HostRole, type ScriptReader, type Side } from "./keepalived_instance.ts";

export type { ScriptReader } from "./keepalived_instance.ts";

export interface KeepalivedResult {
  /** The VIP addresses of every instance (without prefix). */
  vips: string[];
  /** Name of the email notifier written under notify:, if any. */
  notifier?: string;
  /** smtp_alert as configured: true/false when written, undefined when keepalived's default applies. */
  smtpAlert?: { value: boolean | undefined; file: string; line: number };
  /** Which file describes which host. */
  files: { master?: string; backup?: string };
}

/** An instance as the two files write it: a, from the first file; b, from the other. */
interface Pair {
  a?: KaInstance;
  b?: KaInstance;
}

/** Pairs each instance of a with b's: same name, else same VRID and family; a lone pair of instances pairs up. */
function pairInstances(ha: KaHost, hb: KaHost | undefined, notes: ImportNotes): Pair[] {
  if (!hb) return ha.instances.map((a) => ({ a }));
  const used = new Set<KaInstance>();
  const lone = ha.instances.length === 1 && hb.instances.length === 1;
  const pairs: Pair[] = ha.instances.map((a) => {
    const free = hb.instances.filter((b) => !used.has(b));
    const b = free.find((x) => x.name === a.name) ?? free.find((x) => x.vrid?.v === a.vrid?.v && instanceFamily(x) === instanceFamily(a)) ?? (lone ? free[0] : undefined);
    if (b) used.add(b);
    else notes.warn(ha.file, a.line, `vrrp_instance ${a.name} has no counterpart in ${hb.file}: the other host's priority is assumed; check its roles:`, ["vrrp"]);
    return { a, b };
  });
  for (const b of hb.instances) {
    if (used.has(b)) continue;
    notes.warn(hb.file, b.line, `vrrp_instance ${b.name} has no counterpart in ${ha.file}: the other host's priority is assumed; check its roles:`, ["vrrp"]);
    pairs.push({ b });
  }
  return pairs;
}

/** Decides which file is the master host: state MASTER, else the higher priority, else the first. */
function hostRoles(first: Pair, ha: KaHost, hb: KaHost | undefined, notes: ImportNotes): { a: HostRole; b?: HostRole } {
  const a = first.a;
  const b = first.b;
  if (!hb) return { a: a?.state?.v === "BACKUP" ? "backup" : "master" };
  if (!a || !b) return { a: "master", b: "backup" };
  const am = a.state?.v === "MASTER";
  const bm = b.state?.v === "MASTER";
  if (am !== bm) return am ? { a: "master", b: "backup" } : { a: "backup", b: "master" };
  const pa = a.priority?.v ?? 100;
  const pb = b.priority?.v ?? 100;
  if (pa !== pb) return pa > pb ? { a: "master", b: "backup" } : { a: "backup", b: "master" };
  notes.warn(ha.file, a.priority?.line ?? a.line, `both hosts have state ${a.state?.v ?? "unset"} and priority ${pa}: ${ha.file} is taken as the master`, ["vrrp", "roles"]);
  return { a: "master", b: "backup" };
}

/** The email notifier from global_defs, or undefined when keepalived could not have sent mail. */
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

/** The sync groups of the reference file (the first that has any), checked against the instances written. */
function syncGroups(ha: KaHost, hb: KaHost | undefined, names: Set<string>, notes: ImportNotes): Record<string, unknown> {
  const ref = ha.syncGroups.length || !hb ? ha : hb;
  const other = ref === ha ? hb : ha;
  const out: Record<string, unknown> = {};
  for (const g of ref.syncGroups) {
    const at: YamlPath = ["vrrp", "sync_groups", g.name];
    const members = g.members.filter((m) => {
      if (names.has(m.name)) return true;
      notes.error(ref.file, m.line, `vrrp_sync_group ${g.name} names ${m.name}, which is not a vrrp_instance: keepalived ignores it, so is it left out`, at);
      return false;
    });
    const twin = other?.syncGroups.find((x) => x.name === g.name);
    if (other && JSON.stringify(twin?.members.map((m) => m.name).sort()) !== JSON.stringify(g.members.map((m) => m.name).sort())) {
      notes.error(ref.file, g.line, `the keepalived files disagree on vrrp_sync_group ${g.name}: ${g.members.map((m) => m.name).join(" ")} here, ${twin ? twin.members.map((m) => m.name).join(" ") : "no such group"} in ${other.file}; this file's is used`, at);
    }
    if (members.length < 2) {
      notes.warn(ref.file, g.line, `vrrp_sync_group ${g.name} has ${members.length} instance${members.length === 1 ? "" : "s"}: keepalived removes such a group, and so does the import`, ["vrrp"]);
      continue;
    }
    const notify = Object.fromEntries(Object.entries(g.notify).map(([k, x]) => [k, x.v]));
    out[g.name] = Object.keys(notify).length ? { instances: members.map((m) => m.name), notify } : members.map((m) => m.name);
  }
  return out;
}

/** Moves the notes reading an instance produced ("vrrp…") under its name in the output. */
function moveNotes(notes: ImportNotes, inst: KaInstance, base: YamlPath): void {
  for (const n of notes.items.slice(inst.notes[0], inst.notes[1])) {
    if (n.at && n.at[0] === "vrrp") n.at = [...base, ...n.at.slice(1)];
  }
}

/**
 * Translates the keepalived.conf of one host (primary) or of both (primary and other) into
 * out.data.vrrp and out.data.notify, reporting disagreements, traps and what did not translate.
 */
export function translateKeepalived(primary: KaConfig, other: KaConfig | undefined, out: ImportOutput, notes: ImportNotes, read: ScriptReader): KeepalivedResult {
  const ha = readKeepalivedHost(primary, notes);
  const hb = other ? readKeepalivedHost(other, notes) : undefined;
  const notifier = emailNotifier(ha, out, notes) ?? (hb ? emailNotifier(hb, out, notes) : undefined);
  const pairs = pairInstances(ha, hb, notes);
  if (pairs.length === 0) {
    notes.warn(primary.file, 0, "no vrrp_instance: no vrrp section is written", ["vrrp"]);
    return { vips: [], notifier, files: {} };
  }
  const roles = hostRoles(pairs[0], ha, hb, notes);
  const single = pairs.length === 1;
  const instances: Record<string, unknown> = {};
  const placed: (() => void)[] = [];
  for (const p of pairs) {
    const r: { master?: Side; backup?: Side } = {};
    const side = (host: KaHost, inst: KaInstance): Side => ({ host, inst, priority: inst.priority?.v ?? 100 });
    if (p.a) r[roles.a] = side(ha, p.a);
    if (p.b && hb) r[roles.b ?? (roles.a === "master" ? "backup" : "master")] = side(hb, p.b);
    const name = (p.a ?? p.b)!.name;
    const known = (r.master ?? r.backup)!;
    // With one file, the other host's priority is a guess the user must confirm: 50 away, on the side its state says.
    const holds = known.inst.state ? known.inst.state.v === "MASTER" : known === r.master;
    const guess = holds ? Math.max(1, known.priority - 50) : Math.min(254, known.priority + 50);
    const pm = r.master?.priority ?? guess;
    const pb = r.backup?.priority ?? guess;
    const base: YamlPath = single ? ["vrrp"] : ["vrrp", "instances", name];
    if (!r.master || !r.backup) {
      const knownRole = r.master ? "master" : "backup";
      const missing = knownRole === "master" ? "backup" : "master";
      notes.warn(known.host.file, known.inst.priority?.line ?? known.inst.line, `only the ${knownRole}'s keepalived.conf was given${single ? "" : ` for ${name}`}: the ${missing}'s priority is assumed to be ${missing === "master" ? pm : pb}; check roles: (or pass --keepalived-backup)`, [...base, "roles"]);
    }
    const ctx = { out, notes, read, base, single };
    instances[name] = translateInstance(ctx, r, pm, pb);
    for (const inst of [p.a, p.b]) if (inst && !single) moveNotes(notes, inst, base);
    placed.push(() => instanceComments(ctx, r, pm, pb));
  }
  for (const host of [ha, hb]) {
    for (const [name, s] of host?.scripts ?? []) {
      if (!host!.instances.some((i) => i.trackScripts.some((r) => r.name === name))) notes.untranslated(host!.file, s.line, `vrrp_script ${name}`, "no instance tracks it", ["vrrp"]);
    }
  }
  // One instance: any sync group has fewer than two members, which syncGroups reports.
  const groups = syncGroups(ha, hb, new Set(Object.keys(instances)), notes);
  out.data.vrrp = single ? Object.values(instances)[0] : { instances, ...(Object.keys(groups).length ? { sync_groups: groups } : {}) };
  for (const add of placed) add();
  const all = pairs.flatMap((p) => [p.a, p.b]).filter((i): i is KaInstance => i !== undefined);
  const first = all[0];
  const firstHost = pairs[0].a ? ha : hb!;
  const alertSrc = all.find((i) => i.smtpAlert)?.smtpAlert ?? firstHost.smtpAlert;
  const files = { [roles.a]: ha.file, ...(hb && roles.b ? { [roles.b]: hb.file } : {}) } as KeepalivedResult["files"];
  return {
    vips: [...new Set(pairs.flatMap((p) => (p.a ?? p.b)!.vips.map((x) => x.address.split("/")[0])))],
    notifier,
    smtpAlert: { value: alertSrc?.v, file: firstHost.file, line: alertSrc?.line ?? firstHost.email.toLine ?? first.line },
    files,
  };
}
