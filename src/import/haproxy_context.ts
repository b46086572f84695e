// What the haproxy section translators share: the input, the output being built, the notes.

import type { HaConfig, HaDirective } from "./haproxy_cfg.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { ImportNotes, YamlPath } from "./notes.ts";
import { directiveText } from "./notes.ts";

export interface Ctx {
  cfg: HaConfig;
  out: ImportOutput;
  notes: ImportNotes;
  /** Source lines of routing rules written to the output, for notes found later. */
  lines: WeakMap<object, number>;
}

/** Reports a directive (or the words of it) that did not translate, as a note placed at `at`. */
export function drop(ctx: Ctx, d: HaDirective, reason: string, at: YamlPath | undefined, words?: string[]): void {
  ctx.notes.untranslated(ctx.cfg.file, d.line, directiveText(words ?? d.words), reason, at);
}
