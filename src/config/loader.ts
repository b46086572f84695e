// Reads tandem.yaml: YAML with positions → schema → resolved config for a role, all problems at once.

import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import type { Document } from "yaml";
import type { z } from "zod";
import { configSchema, ENTRY_SCHEMAS } from "./schema.ts";
import type { ConfigInput } from "./schema.ts";
import { Diagnostics, formatDiagnostic, locate, locateOffset } from "./diagnostics.ts";
import type { Located } from "./diagnostics.ts";
import { issuesToDiagnostics } from "./zod_issues.ts";
import { normalize, ROLES } from "./normalize.ts";
import type { Role, TandemConfig } from "./types.ts";
import { TandemError } from "../core/errors.ts";
import { validateAlerts } from "../alerts/validate.ts";
import { backendResponseRules, compileFrontend } from "../proxy/http/routing.ts";
import { checkTlsFiles } from "../tls/check.ts";

export interface LoadResult {
  /** Present when there is no error (warnings allowed). */
  config?: TandemConfig;
  /** The parsed input (before role resolution), when the schema accepted it. */
  input?: ConfigInput;
  diagnostics: Located[];
  file: string;
}

/** A config that failed validation: code E_CONFIG, with every diagnostic. */
export class ConfigError extends TandemError {
  readonly diagnostics: Located[];
  readonly file: string;
  constructor(file: string, diagnostics: Located[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super("E_CONFIG", `${file}: ${errors.length} error${errors.length === 1 ? "" : "s"} in the configuration`);
    this.name = "ConfigError";
    this.diagnostics = diagnostics;
    this.file = file;
  }
  /** Every diagnostic rendered, errors and warnings in file order. */
  render(): string {
    return this.diagnostics.map((d) => formatDiagnostic(this.file, d)).join("\n");
  }
}

function sortByPlace(items: Located[]): Located[] {
  return items.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Names written in the file, valid or not, so a broken entry is not also reported as missing. */
export interface WrittenNames {
  backends: Set<string>;
  notifiers: Set<string>;
}

function names(data: unknown): WrittenNames {
  const d = (data ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const keys = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : []);
  return { backends: new Set([...keys(d.proxies), ...keys(d.backends)]), notifiers: new Set(keys(d.notify)) };
}

/**
 * Validates the top-level sections, and record/list sections entry by entry. Entries that fail are
 * left out of the result so the semantic pass can still report on the rest. ok is false if any failed.
 */
function validateSections(data: unknown, diag: Diagnostics): { input?: ConfigInput; ok: boolean } {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    diag.error([], "the file must be a mapping of sections (global, defaults, proxies, vrrp, ...)");
    return { ok: false };
  }
  const raw = data as Record<string, unknown>;
  const clean: Record<string, unknown> = {};
  let ok = true;
  const report = (issues: Parameters<typeof issuesToDiagnostics>[0], base: (string | number)[]) => {
    ok = false;
    diag.items.push(...issuesToDiagnostics(issues, configSchema, data, base).map((d) => ({ ...d, path: d.path })));
  };
  const shape = configSchema.shape as Record<string, z.ZodType>;
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in shape)) {
      report([{ code: "unrecognized_keys", keys: [key], path: [], message: "", input: raw }] as never, []);
      continue;
    }
    const entries = ENTRY_SCHEMAS[key];
    if (entries && value !== null && typeof value === "object" && (entries.kind === "list") === Array.isArray(value)) {
      const out: Record<string, unknown> | unknown[] = entries.kind === "list" ? [] : {};
      for (const [k, v] of Object.entries(value)) {
        const r = entries.entry.safeParse(v);
        const seg = entries.kind === "list" ? Number(k) : k;
        if (r.success) (out as Record<string, unknown>)[k] = r.data;
        else report(r.error.issues.map((i) => ({ ...i, path: [seg, ...i.path] })) as never, [key]);
      }
      clean[key] = entries.kind === "list" ? (out as unknown[]).filter((x) => x !== undefined) : out;
      continue;
    }
    const r = shape[key].safeParse(value);
    if (r.success) clean[key] = r.data;
    else report(r.error.issues, [key]);
  }
  return { input: clean as ConfigInput, ok };
}

/** Parses and validates config text for role (default master). Never throws on bad input. */
export function loadConfigText(text: string, file: string, role: Role = "master"): LoadResult {
  const lc = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((e) => {
      const message = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      return locateOffset({ severity: "error", message: `YAML: ${message}`, path: [] }, e.pos[0], e.pos[1], text, lc);
    });
    return { diagnostics, file };
  }
  const data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const diag = new Diagnostics();
  const { input, ok } = validateSections(data, diag);
  if (!input) return { diagnostics: sortByPlace(locate(diag.items, doc, text, lc)), file };
  const parsed = { data: input };
  const config = normalize(parsed.data, file, role, diag, names(data));
  // HTTP rules compile once at load: a bad header value, regex or path fails here, not as a 500
  // (for entries our own pass found nothing wrong with: one report per problem).
  const faulty = new Set(diag.items.filter((d) => d.severity === "error").map((d) => d.path.slice(0, 2).join(".")));
  for (const f of config.frontends) {
    if (f.mode !== "http" || faulty.has(`proxies.${f.name}`) || faulty.has(`frontends.${f.name}`)) continue;
    try {
      compileFrontend(f);
    } catch (err) {
      diag.error([parsed.data.proxies?.[f.name] ? "proxies" : "frontends", f.name], (err as Error).message, undefined, true);
    }
  }
  for (const b of config.backends) {
    if (faulty.has(`proxies.${b.name}`) || faulty.has(`backends.${b.name}`)) continue;
    try {
      backendResponseRules(b);
    } catch (err) {
      diag.error([parsed.data.proxies?.[b.name] ? "proxies" : "backends", b.name], (err as Error).message, undefined, true);
    }
  }
  // Certificate and CA files are read now: a bad PEM fails --check and a reload, not a handshake.
  diag.items.push(...checkTlsFiles(config, parsed.data, Date.now()));
  // The alerts subsystem knows its own rules (templates, notifier fields): add what it finds about
  // alerts and notifiers that our own pass found nothing wrong with (one report per problem).
  const entry = (path: (string | number)[]) => path.slice(0, 2).join(".");
  const reported = new Set(diag.items.map((d) => entry(d.path)));
  for (const issue of validateAlerts(config)) {
    if (!reported.has(entry(issue.path))) diag.items.push({ severity: issue.severity, path: issue.path, message: issue.message });
  }
  // Role-specific problems of the other role are reported too: one file serves both hosts.
  for (const other of ROLES) {
    if (other === role) continue;
    const d2 = new Diagnostics();
    normalize(parsed.data, file, other, d2);
    const seen = new Set(diag.items.map((d) => `${d.path.join(".")}|${d.message}`));
    for (const d of d2.items) if (!seen.has(`${d.path.join(".")}|${d.message}`)) diag.items.push(d);
  }
  const diagnostics = sortByPlace(locate(diag.items, doc, text, lc));
  return { config: ok && diag.errorCount === 0 ? config : undefined, input: ok ? parsed.data : undefined, diagnostics, file };
}

/** Reads file and validates it for role. Throws TandemError E_READ when the file cannot be read. */
export function loadConfigFile(file: string, role: Role = "master"): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TandemError("E_READ", `Cannot read config "${file}": ${e.code === "ENOENT" ? "no such file" : e.message}`, { cause: err });
  }
  return loadConfigText(text, file, role);
}

/** Loads file for role or throws ConfigError carrying every diagnostic. */
export function requireConfig(file: string, role: Role): { config: TandemConfig; warnings: Located[] } {
  const r = loadConfigFile(file, role);
  if (!r.config) throw new ConfigError(file, r.diagnostics);
  return { config: r.config, warnings: r.diagnostics };
}
