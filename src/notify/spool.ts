// The on-disk spool: one JSON file per outgoing message, written atomically, so no alert is lost.

import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { OutgoingMessage } from "./message.ts";
import { TandemError } from "../core/errors.ts";

/** Where one recipient of a spooled message stands. */
export type RecipientState = "pending" | "delivered" | "rejected";

/** One spooled message, as stored in `<dir>/<id>.json`. Times are wall-clock milliseconds. */
export interface SpoolEntry {
  version: 1;
  id: string;
  notifier: string;
  createdAt: number;
  message: OutgoingMessage;
  attempts: number;
  nextAttemptAt: number;
  /** Per-recipient state: delivered ones are never sent again, rejected ones are given up. */
  recipients: Record<string, RecipientState>;
  lastError?: string;
}

/** A file that could not be read back; it is renamed to `<name>.bad` and left for a human. */
export interface BadSpoolFile {
  file: string;
  reason: string;
}

const ENTRY_FILE = /^[0-9a-z]+-[0-9a-f]+\.json$/;

/** A new spool id: sortable by creation time, unique across restarts. */
export function newSpoolId(wallNow: number): string {
  return `${Math.floor(wallNow).toString(36).padStart(9, "0")}-${randomBytes(6).toString("hex")}`;
}

function isEntry(value: unknown): value is SpoolEntry {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const m = v.message as Record<string, unknown> | undefined;
  return (
    v.version === 1 &&
    typeof v.id === "string" &&
    typeof v.notifier === "string" &&
    typeof v.createdAt === "number" &&
    typeof v.attempts === "number" &&
    typeof v.nextAttemptAt === "number" &&
    typeof v.recipients === "object" &&
    v.recipients !== null &&
    typeof m === "object" &&
    m !== null &&
    typeof m.subject === "string" &&
    typeof m.text === "string"
  );
}

/** Flushes a directory so a rename or unlink inside it survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some file systems and runtimes refuse fsync on a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** A directory of spooled messages for one notifier. */
export class Spool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the directory (0700). Throws TandemError E_SPOOL when it cannot. */
  async init(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new TandemError("E_SPOOL", `Cannot create spool directory "${this.dir}": ${(err as Error).message}`, { cause: err });
    }
  }

  /** Writes an entry atomically: temp file, fsync, rename over the old one, fsync the directory. */
  async write(entry: SpoolEntry): Promise<void> {
    const final = join(this.dir, `${entry.id}.json`);
    const temp = join(this.dir, `.${entry.id}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      const handle = await open(temp, "w", 0o600);
      try {
        await handle.writeFile(JSON.stringify(entry), "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, final);
      await syncDir(this.dir);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw new TandemError("E_SPOOL", `Cannot write spool file "${final}": ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes an entry (delivered or dropped). A missing file is not an error. */
  async remove(id: string): Promise<void> {
    try {
      await unlink(join(this.dir, `${id}.json`));
      await syncDir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new TandemError("E_SPOOL", `Cannot remove spool file "${id}.json" in "${this.dir}": ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /**
   * Reads every pending entry, oldest first. Leftover temp files (a crash mid-write) are deleted;
   * unreadable entries are renamed to `.bad` and reported, never thrown.
   */
  async loadAll(): Promise<{ entries: SpoolEntry[]; bad: BadSpoolFile[] }> {
    const entries: SpoolEntry[] = [];
    const bad: BadSpoolFile[] = [];
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith(".tmp")) {
        await unlink(path).catch(() => {});
        continue;
      }
      if (!ENTRY_FILE.test(name)) continue;
      try {
        const value: unknown = JSON.parse(await readFile(path, "utf8"));
        if (!isEntry(value)) throw new Error("not a spool entry");
        entries.push(value);
      } catch (err) {
        bad.push({ file: path, reason: (err as Error).message });
        await rename(path, `${path}.bad`).catch(() => {});
      }
    }
    return { entries, bad };
  }
}
