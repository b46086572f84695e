// What the haproxy section translators share: the input, the output being built, the notes.

import type { HaConfig, HaDirective } from "./haproxy_cfg.ts";
import type { ImportOutput } from "./emit_yaml.ts";
import type { Impact, ImportNotes, YamlPath } from "./notes.ts";
import { directiveText } from "./notes.ts";
import { impactOf } from "./haproxy_impact.ts";
import type { HaTlsDefaults } from "./haproxy_tls.ts";

export interface Ctx {
  cfg: HaConfig;
  out: ImportOutput;
  notes: ImportNotes;
  /** Source lines of routing rules written to the output, for notes found later. */
  lines: WeakMap<object, number>;
  /** TLS settings of the global section, for the bind and server lines after it. */
  tls: HaTlsDefaults;
}

/**
 * Reports a directive (or the words of it) that did not translate, as a note placed at `at`: a
 * refusal when its loss weakens security or changes where requests go or what they carry
 * (haproxy_impact.ts decides unless `impact` is given; null: operational), else untranslated.
 */
export function drop(ctx: Ctx, d: HaDirective, reason: string, at: YamlPath | undefined, words?: string[], impact?: Impact | null): void {
  // A part of a line is shown after the directive's first words: "bind 203.0.113.10:443 … ssl crt x".
  const lead = /^(bind|stats|option|http-request|http-response|server)$/.test(d.words[0]) ? 2 : 1;
  const shown = !words || words[0] === d.words[0] ? words ?? d.words : [...d.words.slice(0, lead), "…", ...words];
  const i = impact === undefined ? impactOf(d.words, words) : impact ?? undefined;
  if (i) ctx.notes.refused(ctx.cfg.file, d.line, directiveText(shown), reason, i, at);
  else ctx.notes.untranslated(ctx.cfg.file, d.line, directiveText(shown), reason, at);
}
