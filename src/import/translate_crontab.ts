// crontab jobs → tandem alerts: a VIP-lost mailer becomes vip_held, other jobs command checks.

import { basename } from "node:path";
import type { CronFile } from "./crontab.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes } from "./notes.ts";
import { vipMailer } from "./shell_scripts.ts";
import type { ScriptReader } from "./translate_keepalived.ts";

export interface CrontabContext {
  /** The email notifier already written (from keepalived's global_defs), if any. */
  notifier?: string;
  /** The VIPs of the vrrp section. */
  vips: string[];
  read: ScriptReader;
}

const HA_CONTROL = /\b(?:service\s+(?:haproxy|keepalived)|systemctl\s+\S+\s+(?:haproxy|keepalived)|\/etc\/init\.d\/(?:haproxy|keepalived)|killall\s+(?:-\S+\s+)*(?:haproxy|keepalived))\b/;

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** Writes a notifier for cron's own mail (local MTA, MAILTO or root) when none exists yet. */
function cronNotifier(cron: CronFile, out: ImportOutput, notes: ImportNotes): string {
  const mailto = cron.env.MAILTO;
  const to = mailto?.value ? mailto.value.split(",").map((s) => s.trim()).filter(Boolean) : ["root@localhost"];
  out.data.notify = { ...(out.data.notify as object | undefined), email: { smtp: { host: "127.0.0.1", port: 25 }, from: "tandem@localhost", to } };
  notes.info(cron.file, mailto?.line ?? 0, `cron mailed through the local mail server to ${to.join(", ")}: the same is written as notifier "email"; check the sender and the server`, ["notify", "email"]);
  return "email";
}

/**
 * Turns each job of cron into an alert in out.data.alerts: a script that mails when the VIP is
 * missing becomes a vip_held check on the master; other jobs become command checks on the same
 * schedule. @reboot jobs, jobs that drive haproxy/keepalived and cron's `%` are reported.
 */
export function translateCrontab(cron: CronFile, out: ImportOutput, notes: ImportNotes, ctx: CrontabContext): void {
  for (const p of cron.problems) notes.warn(cron.file, p.line, p.message);
  const alerts = (out.data.alerts as Record<string, unknown>[] | undefined) ?? [];
  const names = new Set(alerts.map((a) => String(a.name)));
  let notifier = ctx.notifier;
  for (const job of cron.jobs) {
    const at = ["alerts"];
    const directive = `${job.schedule} ${job.command}`;
    if (job.schedule === "@reboot") {
      notes.untranslated(cron.file, job.line, directive, "tandem has no start-up jobs: use a systemd unit", at);
      continue;
    }
    if (/(^|[^\\])%/.test(job.command)) {
      notes.untranslated(cron.file, job.line, directive, "cron's % (standard input for the command) is not supported: move the input into a script", at);
      continue;
    }
    if (HA_CONTROL.test(job.command)) {
      notes.untranslated(cron.file, job.line, directive, "it drives haproxy or keepalived, which tandem replaces", at);
      continue;
    }
    const path = /^(\/|\.\/)\S+/.exec(job.command)?.[0];
    const script = path ? ctx.read(path, cron.file) : undefined;
    if (path && !script && /\.(sh|bash)$/.test(path)) notes.info(cron.file, job.line, `could not read ${path} to see what it does: imported as a command check`, at);
    const mailer = vipMailer(script?.text ?? job.command);
    notifier ??= cronNotifier(cron, out, notes);
    const index = alerts.length;
    const where = ["alerts", index];
    if (mailer) {
      const missing = mailer.when === "missing";
      const alert: Record<string, unknown> = {
        name: uniqueName(missing ? "vip-lost" : "vip-taken", names),
        schedule: job.schedule,
        // "Mail if the VIP is not here" only makes sense on the host meant to hold it, and the reverse.
        roles: [missing ? "master" : "backup"],
        check: missing ? { vip_held: mailer.vip } : { vip_not_held: mailer.vip },
        notify: notifier,
        ...(mailer.subject !== undefined ? { subject: mailer.subject } : {}),
        ...(mailer.message !== undefined ? { message: mailer.message } : {}),
      };
      alerts.push(alert);
      const what = script ? basename(script.path) : "the job";
      out.comments.push({ path: where, text: `${what} + crontab: ${job.schedule === "* * * * *" ? "every minute" : job.schedule}, mail if this host ${missing ? "does not hold" : "holds"} the VIP`, place: "before" });
      if (ctx.vips.length > 0 && !ctx.vips.includes(mailer.vip)) notes.warn(cron.file, job.line, `${what} looks for ${mailer.vip}, which is not a virtual IP of the vrrp section (${ctx.vips.join(", ")})`, where);
      if (mailer.usesIfconfig) notes.warn(cron.file, job.line, `${what} reads ifconfig, which does not list the addresses keepalived adds: it mailed every time; vip_held reads the addresses itself`, where);
      const to = ((out.data.notify as Record<string, { to?: string[] }> | undefined)?.[notifier]?.to ?? []) as string[];
      const extra = mailer.recipients.filter((r) => !to.includes(r));
      if (extra.length > 0) notes.warn(cron.file, job.line, `${what} mailed ${extra.join(", ")}, the alert goes to notifier "${notifier}" (${to.join(", ")}); add the address there if it is still wanted`, where);
    } else {
      const base = (path ? basename(path) : job.command.split(/\s+/)[0].split("/").pop() ?? "job").replace(/\.(sh|py|pl)$/, "");
      alerts.push({ name: uniqueName(`cron-${base}`, names), schedule: job.schedule, check: { command: job.command }, notify: notifier });
      out.comments.push({ path: where, text: `from ${cron.file}:${job.line}: cron mailed the job's output; tandem alerts when the command exits non-zero`, place: "before" });
    }
    if (job.comment) out.comments.push({ path: where, text: job.comment, place: "before" });
    if (job.user && job.user !== "root") notes.info(cron.file, job.line, `the job ran as ${job.user}; tandem runs checks as root`, where);
  }
  if (alerts.length > 0) out.data.alerts = alerts;
}
