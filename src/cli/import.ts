// `tandem import`: reads haproxy.cfg / keepalived.conf / crontab files, writes tandem.yaml, lists what did not carry over.

import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { importConfigs } from "../import/import_configs.ts";
import type { ImportResult, ImportSource } from "../import/import_configs.ts";
import { formatNote } from "../import/notes.ts";

/** `tandem import`'s exit codes (docs/migration.md). */
export const IMPORT_EXIT = { ok: 0, contradiction: 1, usage: 2, refused: 3, missingFiles: 4 } as const;

export const IMPORT_USAGE = `Usage: tandem import --haproxy FILE [--keepalived FILE] [--keepalived-backup FILE] [--crontab FILE] [-o FILE] [--force]

  --haproxy FILE            haproxy.cfg (the same on both hosts)
  --keepalived FILE         keepalived.conf of one host (usually the master)
  --keepalived-backup FILE  keepalived.conf of the other host (checked against the first)
  --crontab FILE            crontab with alert jobs (e.g. a script mailing when the VIP is lost)
  -o, --output FILE         where to write tandem.yaml (default: standard output)
  --force                   write even what lost something that protected traffic or decided
                            where it goes; such proxies fail closed (deny) and are marked

Scripts the files name (track scripts, cron jobs) are read from their path, or else from the
directory of the file that names them. Every directive that could not be carried is listed on
standard error as file:line and as a comment in the output. Details: docs/migration.md.
Exit codes: 0 written, passes \`tandem --check\`, does what the files did (operational losses
are warnings); 1 written, but the files contradict each other or a value needs a decision;
2 usage or unreadable file; 3 refused: a TLS listener, authentication, access rule, rate limit,
redirect or routing rule could not be carried, nothing written (with --force: written, failing
closed); 4 written, but certificates it names are not on this host (--check fails here).`;

/** A keepalived.conf given as --haproxy (or the reverse) would import as nothing: say so. */
function wrongKind(flag: string, text: string): string | undefined {
  const ka = /^\s*(vrrp_instance|vrrp_script|global_defs|virtual_server|vrrp_sync_group)\b/m.test(text);
  const ha = /^\s*(frontend|backend|listen|defaults)\b/m.test(text);
  if (flag === "haproxy" && ka && !ha) return "looks like a keepalived.conf (vrrp_instance, global_defs...): pass it as --keepalived";
  if (flag !== "haproxy" && flag !== "crontab" && ha && !ka) return "looks like a haproxy.cfg (frontend, backend, listen...): pass it as --haproxy";
  return undefined;
}

/** Largest script read; anything bigger is not a check script. */
const SCRIPT_LIMIT = 64 * 1024;

/**
 * Finds a script: under the same name next to the file naming it (copies of /etc/keepalived/*.sh
 * taken off the old hosts usually sit beside the copied configs), else at its own path. Binaries
 * and big files are not scripts: undefined.
 */
export function readScript(path: string, besides: string): { path: string; text: string } | undefined {
  for (const candidate of [join(dirname(besides), basename(path)), path]) {
    try {
      if (!existsSync(candidate) || statSync(candidate).size > SCRIPT_LIMIT) continue;
      const text = readFileSync(candidate, "utf8");
      if (!text.includes("\0")) return { path: candidate, text };
    } catch {
      // unreadable: try the next place
    }
  }
  return undefined;
}

/**
 * Runs `tandem import` with argv (the words after "import"); out receives the YAML when no -o is
 * given, err every note and error. Returns the exit code; never throws on bad input.
 */
export function runImport(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        haproxy: { type: "string" },
        keepalived: { type: "string" },
        "keepalived-backup": { type: "string" },
        crontab: { type: "string" },
        output: { type: "string", short: "o" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    err(`tandem import: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
    err(IMPORT_USAGE);
    return IMPORT_EXIT.usage;
  }
  if (values.help) {
    out(IMPORT_USAGE);
    return IMPORT_EXIT.ok;
  }
  if (!values.haproxy && !values.keepalived && !values["keepalived-backup"]) {
    err("tandem import: give at least --haproxy FILE or --keepalived FILE");
    err(IMPORT_USAGE);
    return IMPORT_EXIT.usage;
  }
  const read = (flag: string): ImportSource | undefined => {
    const path = values[flag] as string | undefined;
    if (path === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      const why = x.code === "ENOENT" ? "no such file" : x.code === "EISDIR" ? "it is a directory, not a file" : x.code === "EACCES" ? "permission denied" : x.message;
      throw new Error(`Cannot read "${path}": ${why}`);
    }
    const wrong = wrongKind(flag, text);
    if (wrong) throw new Error(`--${flag} ${path} ${wrong}`);
    return { path, text };
  };
  const output = values.output as string | undefined;
  let inputs;
  try {
    inputs = { haproxy: read("haproxy"), keepalived: read("keepalived"), keepalivedBackup: read("keepalived-backup"), crontab: read("crontab"), read: readScript, force: values.force === true, output };
  } catch (e) {
    err(`tandem import: ${(e as Error).message}`);
    return IMPORT_EXIT.usage;
  }
  const result = importConfigs(inputs);
  for (const n of result.notes) if (n.kind !== "info") err(formatNote(n));
  const refused = result.notes.filter((n) => n.kind === "refused").length;
  if (refused > 0 && !values.force) {
    err(`tandem import: nothing written: ${refused} directive${refused === 1 ? "" : "s"} above would be lost, weakening security or changing where requests go (marked "refused"); change them in the input, or pass --force to write a config where they fail closed`);
    return IMPORT_EXIT.refused;
  }
  if (output) {
    try {
      writeFileSync(output, result.yaml);
    } catch (e) {
      err(`tandem import: Cannot write "${output}": ${(e as Error).message}`);
      return IMPORT_EXIT.usage;
    }
    const untranslated = result.notes.filter((n) => n.kind === "untranslated").length;
    err(`tandem import: wrote ${output} (${refused ? `${refused} refused, failing closed; ` : ""}${untranslated} directive${untranslated === 1 ? "" : "s"} not translated)`);
  } else out(result.yaml.replace(/\n$/, ""));
  return importExit(result);
}

/** The exit code of an import (IMPORT_EXIT): refused, then contradictions, then files missing here. */
export function importExit(result: Pick<ImportResult, "notes" | "missing">): number {
  if (result.notes.some((n) => n.kind === "refused")) return IMPORT_EXIT.refused;
  if (result.notes.some((n) => n.kind === "error")) return IMPORT_EXIT.contradiction;
  if (result.missing.some((f) => f.what !== "errorfile")) return IMPORT_EXIT.missingFiles;
  return IMPORT_EXIT.ok;
}
