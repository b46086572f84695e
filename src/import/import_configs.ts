// `tandem import` without the I/O: haproxy.cfg + keepalived.conf(s) + crontab texts → tandem.yaml text.

import { parseHaproxyConfig } from "./haproxy_cfg.ts";
import { parseKeepalivedConfig } from "./keepalived_conf.ts";
import { parseCrontab } from "./crontab.ts";
import { translateHaproxy } from "./translate_haproxy.ts";
import { translateKeepalived } from "./translate_keepalived.ts";
import type { KeepalivedResult, ScriptReader } from "./translate_keepalived.ts";
import { translateCrontab } from "./translate_crontab.ts";
import { emitYaml, newOutput } from "./emit_yaml.ts";
import { ImportNotes } from "./notes.ts";
import type { ImportNote } from "./notes.ts";
import { failClosed, reportCheck } from "./import_check.ts";
import type { NamedFile } from "./import_check.ts";

/** One input file: the name to show in messages and its text. */
export interface ImportSource {
  path: string;
  text: string;
}

export interface ImportInputs {
  haproxy?: ImportSource;
  /** keepalived.conf of one host (usually the master). */
  keepalived?: ImportSource;
  /** keepalived.conf of the other host. */
  keepalivedBackup?: ImportSource;
  crontab?: ImportSource;
  /** Reads scripts the files refer to (track scripts, cron jobs). */
  read: ScriptReader;
  /** Write what can be written even when something was refused; it fails closed where it can. */
  force?: boolean;
  /** Where the config will be written (its name in messages; default tandem.yaml). */
  output?: string;
  /** Whether a file exists on this host (default: the file system). */
  exists?: (path: string) => boolean;
}

export interface ImportResult {
  /** tandem.yaml, commented. */
  yaml: string;
  /** Everything to tell the user, in input order. */
  notes: ImportNote[];
  /** The data written, before comments (for tests). */
  data: Record<string, unknown>;
  /** Certificates, CA files and errorfiles it names that are not on this host. */
  missing: NamedFile[];
}

const SECTION_ORDER = ["global", "defaults", "userlists", "proxies", "frontends", "backends", "stats", "vrrp", "notify", "alerts"];

/**
 * Translates the given files into one tandem.yaml for both hosts. Never throws on bad input:
 * what cannot be translated, and where the files contradict each other, is in notes (errors there
 * mean the output needs a decision before use).
 */
export function importConfigs(inputs: ImportInputs): ImportResult {
  const out = newOutput();
  const notes = new ImportNotes();
  if (inputs.haproxy) translateHaproxy(parseHaproxyConfig(inputs.haproxy.text, inputs.haproxy.path), out, notes);
  let ka: KeepalivedResult | undefined;
  const primary = inputs.keepalived ?? inputs.keepalivedBackup;
  if (primary) {
    const other = inputs.keepalived ? inputs.keepalivedBackup : undefined;
    ka = translateKeepalived(parseKeepalivedConfig(primary.text, primary.path), other && parseKeepalivedConfig(other.text, other.path), out, notes, inputs.read);
  }
  if (inputs.crontab) {
    translateCrontab(parseCrontab(inputs.crontab.text, inputs.crontab.path), out, notes, { notifier: ka?.notifier, vips: ka?.vips ?? [], read: inputs.read });
  }
  if (ka?.notifier && ka.smtpAlert && ka.smtpAlert.value !== false) {
    const alerts = (out.data.alerts as Record<string, unknown>[] | undefined) ?? [];
    alerts.push({ name: "vrrp-state", on: "vrrp_state_change", notify: ka.notifier });
    out.data.alerts = alerts;
    const at = ["alerts", alerts.length - 1];
    if (ka.smtpAlert.value === true) out.comments.push({ path: at, text: "keepalived smtp_alert: mail on every VRRP state change, at once", place: "before" });
    else {
      notes.info(ka.smtpAlert.file, ka.smtpAlert.line, "global_defs sets up mail but no instance has smtp_alert, so keepalived sent none; tandem mails every VRRP state change: remove this alert to keep quiet", at);
    }
  }
  // Notes in reading order: file by file as given, line by line.
  const files = [inputs.haproxy, inputs.keepalived, inputs.keepalivedBackup, inputs.crontab].filter(Boolean).map((f) => f!.path);
  notes.items.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line);
  out.data = Object.fromEntries(Object.entries(out.data).sort(([a], [b]) => SECTION_ORDER.indexOf(a) - SECTION_ORDER.indexOf(b)));
  const refused = notes.items.filter((n) => n.kind === "refused");
  if (inputs.force && refused.length > 0) failClosed(out, refused);
  // The config as written must pass `tandem --check` (every role); files missing here are named.
  const file = inputs.output ?? "tandem.yaml";
  const missing = reportCheck(notes, emitYaml({ ...out, comments: [], header: [] }, []), file, out.data, inputs.exists);
  out.header.push(...header(inputs, ka, notes));
  return { yaml: emitYaml(out, notes.items), notes: notes.items, data: out.data, missing };
}

function header(inputs: ImportInputs, ka: KeepalivedResult | undefined, notes: ImportNotes): string[] {
  const from = [inputs.haproxy?.path, inputs.keepalived?.path, inputs.keepalivedBackup?.path, inputs.crontab?.path].filter(Boolean).join(", ");
  const lines = [`Imported by \`tandem import\` from ${from}.`, "One file for both hosts:"];
  lines.push(`  tandem --config tandem.yaml --role master${ka?.files.master ? `   # the host of ${ka.files.master}` : ""}`);
  lines.push(`  tandem --config tandem.yaml --role backup${ka?.files.backup ? `   # the host of ${ka.files.backup}` : ""}`);
  const count = (k: string) => notes.items.filter((n) => n.kind === k).length;
  const n = (k: string, one: string, many: string) => `${count(k)} ${count(k) === 1 ? one : many}`;
  const parts = [...(count("refused") ? [`${count("refused")} refused`] : []), `${count("untranslated")} not translated`, n("warning", "warning", "warnings"), ...(count("error") ? [n("error", "error", "errors")] : [])];
  lines.push(`Check it with \`tandem --config tandem.yaml --check\`. ${parts.join(", ")}: see the comments below.`);
  if (count("refused") > 0 && inputs.force) {
    lines.push(`WRITTEN WITH --force: ${count("refused")} directive${count("refused") === 1 ? "" : "s"} that protected traffic or decided where it goes could not be carried (each is marked "refused" below).`);
    lines.push("Frontends and backends that lost a guard (authentication, access rule, rate limit) deny every request until it is fixed; TLS listeners that could not be carried are left out.");
  }
  return lines;
}
