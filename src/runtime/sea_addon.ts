// Loads a native addon embedded in the single executable: written to a private temp file, dlopen-ed.

import { getRawAsset, isSea } from "node:sea";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Loads the SEA asset `name` (a .node file) and returns its exports. Throws when not in a SEA. */
export function loadEmbeddedAddon(name: string): unknown {
  if (!isSea()) throw new Error(`addon "${name}" is only embedded in the built binary`);
  // mkdtemp makes a fresh 0700 directory: nobody else can swap the file before dlopen.
  const dir = mkdtempSync(join(tmpdir(), "tandem-addon-"));
  const file = join(dir, name);
  try {
    writeFileSync(file, new Uint8Array(getRawAsset(name)), { mode: 0o700 });
    const mod = { exports: {} as unknown };
    process.dlopen(mod, file);
    return mod.exports;
  } finally {
    // The mapping stays valid after unlink; nothing is left behind in /tmp.
    rmSync(dir, { recursive: true, force: true });
  }
}
