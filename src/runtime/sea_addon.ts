// Loads a native addon embedded in the single executable: written to a private temp file, dlopen-ed.

import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Loads the SEA asset `name` (a .node file) and returns its exports. Throws when not in a SEA. */
export function loadEmbeddedAddon(name: string): unknown {
  const require = createRequire(import.meta.url);
  const sea = require("node:sea") as { isSea(): boolean; getRawAsset(key: string): ArrayBuffer };
  if (!sea.isSea()) throw new Error(`addon "${name}" is only embedded in the built binary`);
  const dir = mkdtempSync(join(tmpdir(), "tandem-addon-"));
  const file = join(dir, name);
  try {
    writeFileSync(file, new Uint8Array(sea.getRawAsset(name)), { mode: 0o700 });
    const mod = { exports: {} as unknown };
    process.dlopen(mod, file);
    return mod.exports;
  } finally {
    // The mapping stays valid after unlink; nothing is left behind in /tmp.
    rmSync(dir, { recursive: true, force: true });
  }
}
