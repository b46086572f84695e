// Alert subjects and bodies: {placeholder} templates and the default texts around them.

/** Placeholders a template may use. */
export const PLACEHOLDERS = ["host", "role", "state", "vip", "proxy", "server", "instance", "group", "time", "rule", "event", "output"] as const;
export type TemplateVars = Partial<Record<(typeof PLACEHOLDERS)[number], string>>;

/** Replaces {name} with its value; unknown names stay as written, known but empty ones become "". */
export function render(template: string, vars: TemplateVars): string {
  return template.replace(/\{(\w+)\}/g, (all, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) return all;
    return vars[name as keyof TemplateVars] ?? "";
  });
}

/** Placeholders in a template that tandem does not know (for `--check`). */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((n) => !(PLACEHOLDERS as readonly string[]).includes(n));
}

/** "2026-01-01 08:00:00 Asia/Shanghai" in the given zone (default: the host's). */
export function formatTime(wallMs: number, timezone?: string): string {
  const zone = timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    const text = new Intl.DateTimeFormat("sv-SE", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    }).format(new Date(wallMs));
    return `${text} ${zone}`;
  } catch {
    return new Date(wallMs).toISOString();
  }
}

/** Subject prefix for follow-up messages, unless the template places {state} itself. */
const PREFIX: Record<string, string> = { resolved: "[RESOLVED] ", repeat: "[STILL FAILING] ", flapping: "[FLAPPING] " };

/** The subject of a scheduled-check message. */
export function jobSubject(template: string | undefined, kind: "fail" | "resolved" | "repeat" | "flapping", vars: TemplateVars): string {
  if (!template) return render("[tandem] {rule} {state} on {host}", vars);
  const rendered = render(template, vars);
  return template.includes("{state}") ? rendered : `${PREFIX[kind] ?? ""}${rendered}`;
}

/** The subject of an event message; a group says how many more events it holds. */
export function eventSubject(template: string | undefined, vars: TemplateVars, more: number): string {
  const base = render(template ?? "[tandem] {event} {state} on {host}", vars).replace(/\s+/g, " ").trim();
  return more > 0 ? `${base} (+${more} more)` : base;
}
