// What `tandem import` checks about the config it writes: that `tandem --check` accepts it for
// both roles, which files it names are missing on this host, and how a forced output fails closed.

import { existsSync } from "node:fs";
import { formatDiagnostic } from "../config/diagnostics.ts";
import type { Located } from "../config/diagnostics.ts";
import type { Role } from "../config/types.ts";
import { ROLES } from "../config/loader.ts";
import { loadConfigText } from "../tandem_config.ts";
import type { ImportNote, ImportNotes } from "./notes.ts";
import type { ImportOutput } from "./emit_yaml.ts";

/** A file the written config names, and what it is. */
export interface NamedFile {
  path: string;
  what: "certificate" | "CA file" | "errorfile";
  /** Where it is named in tandem.yaml. */
  at: (string | number)[];
}

/** Certificates, CA files and errorfiles the config data names. */
export function namedFiles(data: Record<string, unknown>): NamedFile[] {
  const out: NamedFile[] = [];
  const sections = data as Record<string, Record<string, Record<string, unknown>> | undefined>;
  for (const kind of ["proxies", "frontends", "backends"] as const) {
    for (const [name, p] of Object.entries(sections[kind] ?? {})) {
      const binds = Array.isArray(p.bind) ? p.bind : p.bind === undefined ? [] : [p.bind];
      binds.forEach((b: unknown, i: number) => {
        const crt = (b as { tls?: { crt?: string[] } })?.tls?.crt ?? [];
        for (const c of crt) out.push({ path: c, what: "certificate", at: [kind, name, "bind", ...(Array.isArray(p.bind) ? [i] : [])] });
      });
      for (const [sname, s] of Object.entries((p.servers as Record<string, { tls?: { ca_file?: string } }> | undefined) ?? {})) {
        const ca = typeof s.tls === "object" ? s.tls.ca_file : undefined;
        if (ca) out.push({ path: ca, what: "CA file", at: [kind, name, "servers", sname] });
      }
      for (const f of Object.values((p.errorfiles as Record<string, string> | undefined) ?? {})) out.push({ path: f, what: "errorfile", at: [kind, name, "errorfiles"] });
    }
  }
  return out;
}

/** The written YAML run through the config loader for every role (what `tandem --check` does). */
export function checkWritten(yaml: string, file: string): { role: Role; errors: Located[] }[] {
  return ROLES.map((role) => ({ role, errors: loadConfigText(yaml, file, role, {}).diagnostics.filter((d) => d.severity === "error") }));
}

/**
 * Files missing here become warnings; an error of the written config that is not about such a
 * file is an import bug and becomes an error note (so the exit code is not 0).
 */
export function reportCheck(notes: ImportNotes, yaml: string, file: string, data: Record<string, unknown>, exists: (path: string) => boolean = existsSync): NamedFile[] {
  const missing = namedFiles(data).filter((f) => !exists(f.path));
  const seen = new Set<string>();
  for (const f of missing) {
    if (seen.has(f.path)) continue;
    seen.add(f.path);
    const effect = f.what === "errorfile" ? "the default page is sent until it is there" : "`tandem --check` fails on this host until it is there: copy it, or run the import where it exists";
    notes.warn(file, 0, `the ${f.what} ${f.path} is not on this host: ${effect}`, f.at);
  }
  const aboutMissing = (d: Located) => missing.some((f) => d.message.includes(f.path));
  const done = new Set<string>();
  for (const { role, errors } of checkWritten(yaml, file)) {
    for (const d of errors) {
      if (aboutMissing(d)) continue;
      const text = formatDiagnostic(file, d).split("\n")[0];
      if (done.has(text)) continue;
      done.add(text);
      notes.error(file, 0, `the written config does not pass \`tandem --check --role ${role}\`: ${text}`);
    }
  }
  return missing;
}

/**
 * --force: what was refused fails closed where it can. A frontend, backend or listen that lost a
 * rule guarding it (authentication, access rules, rate limits) denies every request; a TLS
 * listener that could not be carried is already left out (haproxy_proxy.ts). Routing and
 * rewriting losses cannot fail closed: the comments say so.
 */
export function failClosed(out: ImportOutput, refused: ImportNote[]): void {
  const data = out.data as Record<string, Record<string, Record<string, unknown>> | undefined>;
  const denied = new Set<string>();
  for (const n of refused) {
    if (n.impact !== "security" || !n.at || n.at.length < 2) continue;
    const [kind, name] = [String(n.at[0]), String(n.at[1])];
    const entry = data[kind]?.[name];
    if (!entry || !["proxies", "frontends", "backends"].includes(kind) || denied.has(`${kind}/${name}`)) continue;
    if (entry.mode === "tcp" || (entry.mode === undefined && (data.defaults as unknown as { mode?: string } | undefined)?.mode === "tcp")) continue;
    denied.add(`${kind}/${name}`);
    const rules = (entry.http_request as unknown[] | undefined) ?? [];
    entry.http_request = [{ action: "deny", status: 503, body: `tandem import --force: ${n.file}:${n.line} (${n.directive}) could not be carried; this ${kind.slice(0, -1)} refuses every request until it is fixed\n` }, ...rules];
    out.comments.push({ path: [kind, name, "http_request", 0], text: `FAILS CLOSED: ${n.file}:${n.line} ${n.directive} was refused (${n.message}); remove this rule once that is fixed by hand`, place: "before" });
  }
}
