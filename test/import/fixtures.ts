// The import fixture sets (test/fixtures/import/) and a script reader that never leaves that folder.

import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ImportInputs, ImportSource } from "../../src/import/import_configs.ts";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "import");

/** Each set: the files a user would pass to `tandem import`. */
export const SETS: Record<string, { haproxy: string; keepalived?: string; keepalivedBackup?: string; crontab?: string }> = {
  seed: { haproxy: "seed_haproxy.cfg", keepalived: "seed_keepalived_master.conf", keepalivedBackup: "seed_keepalived_backup.conf", crontab: "seed_crontab" },
  web: { haproxy: "web_haproxy.cfg", keepalived: "web_keepalived_master.conf", keepalivedBackup: "web_keepalived_backup.conf", crontab: "web_crontab" },
  unicast: { haproxy: "unicast_haproxy.cfg", keepalived: "unicast_keepalived_a.conf", keepalivedBackup: "unicast_keepalived_b.conf", crontab: "unicast_crontab" },
  split: { haproxy: "split_haproxy.cfg", keepalived: "split_keepalived_master.conf", keepalivedBackup: "split_keepalived_backup.conf" },
  multi: { haproxy: "multi_haproxy.cfg", keepalived: "multi_keepalived_a.conf", keepalivedBackup: "multi_keepalived_b.conf" },
};

/** A source named by its file name (so goldens do not depend on where the repo is). */
export function source(name: string): ImportSource {
  return { path: name, text: readFileSync(join(FIXTURES, name), "utf8") };
}

/** Finds scripts by name in the fixtures folder only, never on this machine. */
export function fixtureReader(path: string): { path: string; text: string } | undefined {
  const file = join(FIXTURES, basename(path));
  return existsSync(file) ? { path: basename(path), text: readFileSync(file, "utf8") } : undefined;
}

/** The inputs of a set, ready for importConfigs. */
export function inputsOf(set: string): ImportInputs {
  const s = SETS[set];
  return {
    haproxy: source(s.haproxy),
    keepalived: s.keepalived ? source(s.keepalived) : undefined,
    keepalivedBackup: s.keepalivedBackup ? source(s.keepalivedBackup) : undefined,
    crontab: s.crontab ? source(s.crontab) : undefined,
    read: fixtureReader,
  };
}
