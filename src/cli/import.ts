// `tandem import`: reads haproxy.cfg / keepalived.conf / crontab files, writes tandem.yaml, lists what did not carry over.

import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { importConfigs } from "../import/import_configs.ts";
import type { ImportSource } from "../import/import_configs.ts";
import { formatNote } from "../import/notes.ts";
import { EXIT } from "../core/errors.ts";

export const IMPORT_USAGE = `Usage: tandem import --haproxy FILE [--keepalived FILE] [--keepalived-backup FILE] [--crontab FILE] [-o FILE]

  --haproxy FILE            haproxy.cfg (the same on both hosts)
  --keepalived FILE         keepalived.conf of one host (usually the master)
  --keepalived-backup FILE  keepalived.conf of the other host (checked against the first)
  --crontab FILE            crontab with alert jobs (e.g. a script mailing when the VIP is lost)
  -o, --output FILE         where to write tandem.yaml (default: standard output)

Scripts the files name (track scripts, cron jobs) are read from their path, or else from the
directory of the file that names them. Every directive that could not be translated is listed
on standard error as file:line and as a comment in the output.
Exit codes: 0 written, 1 written but the files contradict each other, 2 usage or unreadable file.`;

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
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    err(`tandem import: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
    err(IMPORT_USAGE);
    return EXIT.usage;
  }
  if (values.help) {
    out(IMPORT_USAGE);
    return EXIT.ok;
  }
  if (!values.haproxy && !values.keepalived && !values["keepalived-backup"]) {
    err("tandem import: give at least --haproxy FILE or --keepalived FILE");
    err(IMPORT_USAGE);
    return EXIT.usage;
  }
  const read = (flag: string): ImportSource | undefined => {
    const path = values[flag] as string | undefined;
    if (path === undefined) return undefined;
    return { path, text: readFileSync(path, "utf8") };
  };
  let inputs;
  try {
    inputs = { haproxy: read("haproxy"), keepalived: read("keepalived"), keepalivedBackup: read("keepalived-backup"), crontab: read("crontab"), read: readScript };
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    err(`tandem import: Cannot read "${x.path ?? ""}": ${x.code === "ENOENT" ? "no such file" : x.message}`);
    return EXIT.usage;
  }
  const result = importConfigs(inputs);
  for (const n of result.notes) if (n.kind !== "info") err(formatNote(n));
  const output = values.output as string | undefined;
  if (output) {
    try {
      writeFileSync(output, result.yaml);
    } catch (e) {
      err(`tandem import: Cannot write "${output}": ${(e as Error).message}`);
      return EXIT.usage;
    }
    const untranslated = result.notes.filter((n) => n.kind === "untranslated").length;
    err(`tandem import: wrote ${output} (${untranslated} directive${untranslated === 1 ? "" : "s"} not translated)`);
  } else out(result.yaml.replace(/\n$/, ""));
  return result.notes.some((n) => n.kind === "error") ? EXIT.config : EXIT.ok;
}
