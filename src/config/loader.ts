// Reads tandem.yaml: YAML with positions → each section's schema → resolved config for a role,
// every problem at once. The sections (src/<subsystem>/config.ts) are handed in by the caller.

import { readFileSync } from "node:fs";
import { isScalar, LineCounter, parseDocument, visit } from "yaml";
import type { Document } from "yaml";
import { z } from "zod";
import { Diagnostics, formatDiagnostic, locate, locateOffset } from "./diagnostics.ts";
import type { Located } from "./diagnostics.ts";
import { globalSection } from "./global.ts";
import type { ConfigSection, SectionContext } from "./section.ts";
import type { BaseConfig, Role } from "./types.ts";
import { issuesToDiagnostics } from "./zod_issues.ts";
import { TandemError } from "../core/errors.ts";
import { expandEnv } from "./env_vars.ts";

export const ROLES: readonly Role[] = ["master", "backup"];

export interface LoadResult<C extends BaseConfig = BaseConfig> {
  /** Present when there is no error (warnings allowed). */
  config?: C;
  /** The parsed input (before role resolution), when the schema accepted it. */
  input?: Record<string, unknown>;
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

/** Reads and validates tandem.yaml with a fixed list of sections. */
export interface ConfigLoader<C extends BaseConfig> {
  /** The schema of the whole file (every section's keys). */
  readonly schema: z.ZodObject;
  /**
   * Parses and validates config text for role (default master). Double-quoted strings expand
   * environment variables from env (default process.env) as haproxy does. Never throws on bad input.
   */
  text(text: string, file: string, role?: Role, env?: Readonly<Record<string, string | undefined>>): LoadResult<C>;
  /** Reads file and validates it for role. Throws TandemError E_READ when the file cannot be read. */
  file(file: string, role?: Role): LoadResult<C>;
  /** Roles the parsed input defines (a section's `roles`, else master and backup). */
  roles(input: Record<string, unknown> | undefined): Role[];
  /** True when a section of the input defines the roles (vrrp.roles): running then needs --role. */
  definesRoles(input: Record<string, unknown>): boolean;
}

function sortByPlace(items: Located[]): Located[] {
  return items.sort((a, b) => a.line - b.line || a.col - b.col);
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Names written in the file under each top-level key, valid or not. */
function writtenNames(data: Record<string, unknown>): (key: string) => ReadonlySet<string> {
  const cache = new Map<string, Set<string>>();
  return (key) => {
    let s = cache.get(key);
    if (!s) cache.set(key, (s = new Set(isMapping(data[key]) ? Object.keys(data[key] as object) : [])));
    return s;
  };
}

/**
 * Creates the loader for sections (`global` is the loader's own and always comes first). A key
 * that two sections claim is a programming error and throws here.
 */
export function createConfigLoader<C extends BaseConfig>(sections: readonly ConfigSection[]): ConfigLoader<C> {
  const all: readonly ConfigSection[] = [globalSection, ...sections];
  const shape: Record<string, z.ZodType> = {};
  const entries: Record<string, { kind: "record" | "list"; entry: z.ZodType }> = {};
  for (const s of all) {
    for (const [key, schema] of Object.entries(s.keys)) {
      if (key in shape) throw new Error(`config key "${key}" is claimed by two sections (${s.name})`);
      shape[key] = schema;
    }
    Object.assign(entries, s.entries ?? {});
  }
  const schema = z.strictObject(shape);

  /** Validates each section key, and record/list keys entry by entry; failed entries are left out. */
  const validate = (data: unknown, diag: Diagnostics): { input?: Record<string, unknown>; ok: boolean } => {
    if (!isMapping(data)) {
      diag.error([], "the file must be a mapping of sections (global, defaults, proxies, vrrp, ...)");
      return { ok: false };
    }
    const clean: Record<string, unknown> = {};
    let ok = true;
    const report = (issues: Parameters<typeof issuesToDiagnostics>[0], base: (string | number)[]) => {
      ok = false;
      diag.items.push(...issuesToDiagnostics(issues, schema, data, base));
    };
    for (const [key, value] of Object.entries(data)) {
      if (!(key in shape)) {
        report([{ code: "unrecognized_keys", keys: [key], path: [], message: "", input: data }] as never, []);
        continue;
      }
      const each = entries[key];
      if (each && value !== null && typeof value === "object" && (each.kind === "list") === Array.isArray(value)) {
        // A list keeps its positions (a failed entry is undefined) so paths still point at the file.
        const out: Record<string, unknown> | unknown[] = each.kind === "list" ? [] : {};
        for (const [k, v] of Object.entries(value)) {
          const r = each.entry.safeParse(v);
          const seg = each.kind === "list" ? Number(k) : k;
          (out as Record<string, unknown>)[k] = r.success ? r.data : undefined;
          if (!r.success) report(r.error.issues.map((i) => ({ ...i, path: [seg, ...i.path] })) as never, [key]);
        }
        clean[key] = each.kind === "list" ? out : Object.fromEntries(Object.entries(out).filter(([, x]) => x !== undefined));
        continue;
      }
      const r = shape[key].safeParse(value);
      if (r.success) clean[key] = r.data;
      else report(r.error.issues, [key]);
    }
    return { input: clean, ok };
  };

  /** Every section resolved for role, then every cross-section check. */
  const resolveFor = (input: Record<string, unknown>, written: SectionContext["written"], file: string, role: Role, diag: Diagnostics, firstRole: boolean): C => {
    const entry = (d: { path: (string | number)[] }) => d.path.slice(0, 2).join(".");
    const ctx: SectionContext = {
      file,
      role,
      input,
      written,
      firstRole,
      faulty: (e) => diag.items.some((d) => d.severity === "error" && entry(d) === e),
    };
    const config: Record<string, unknown> = { file, role };
    for (const s of all) Object.assign(config, s.normalize(ctx, diag));
    // Each section's check reads its own part and, structurally, the parts it needs of others.
    for (const s of all) s.check?.(config as never, ctx, diag);
    return config as unknown as C;
  };

  /** Expands `$NAME` / `${NAME}` / `${NAME-default}` in double-quoted scalars; an unset variable is a warning. */
  const expandVariables = (doc: Document, text: string, lc: LineCounter, env: Readonly<Record<string, string | undefined>>): Located[] => {
    const out: Located[] = [];
    visit(doc, {
      Scalar(key, node) {
        if (key === "key" || !isScalar(node) || node.type !== "QUOTE_DOUBLE" || typeof node.value !== "string" || !node.value.includes("$")) return;
        const r = expandEnv(node.value, env);
        node.value = r.value;
        const [start, end] = node.range ?? [0, 0];
        for (const name of r.unset) {
          out.push(locateOffset({ severity: "warning", message: `environment variable ${name} is not set: "$${name}" expands to an empty string`, hint: `set it in tandem's environment, or write \${${name}-default}`, path: [] }, start, end, text, lc));
        }
      },
    });
    return out;
  };

  const text = (text: string, file: string, role: Role = "master", env: Readonly<Record<string, string | undefined>> = process.env): LoadResult<C> => {
    const lc = new LineCounter();
    const doc: Document = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const diagnostics = doc.errors.map((e) => {
        const message = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        return locateOffset({ severity: "error", message: `YAML: ${message}`, path: [] }, e.pos[0], e.pos[1], text, lc);
      });
      return { diagnostics, file };
    }
    const expanded = expandVariables(doc, text, lc, env);
    const data = doc.toJS({ maxAliasCount: 100 }) ?? {};
    const diag = new Diagnostics();
    const { input, ok } = validate(data, diag);
    if (!input) return { diagnostics: sortByPlace([...expanded, ...locate(diag.items, doc, text, lc)]), file };
    const written = writtenNames(data as Record<string, unknown>);
    const config = resolveFor(input, written, file, role, diag, true);
    // Role-specific problems of the other role are reported too: one file serves both hosts.
    for (const other of ROLES) {
      if (other === role) continue;
      const d2 = new Diagnostics();
      resolveFor(input, written, file, other, d2, false);
      const seen = new Set(diag.items.map((d) => `${d.path.join(".")}|${d.message}`));
      for (const d of d2.items) if (!seen.has(`${d.path.join(".")}|${d.message}`)) diag.items.push(d);
    }
    const diagnostics = sortByPlace([...expanded, ...locate(diag.items, doc, text, lc)]);
    return { config: ok && diag.errorCount === 0 ? config : undefined, input: ok ? input : undefined, diagnostics, file };
  };

  return {
    schema,
    text,
    file(file, role = "master") {
      let content: string;
      try {
        content = readFileSync(file, "utf8");
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new TandemError("E_READ", `Cannot read config "${file}": ${e.code === "ENOENT" ? "no such file" : e.message}`, { cause: err });
      }
      return text(content, file, role);
    },
    roles(input) {
      for (const s of all) {
        const named = input && s.roles?.(input);
        if (named) return named.map((r) => r.toLowerCase()).filter((r): r is Role => (ROLES as string[]).includes(r));
      }
      return [...ROLES];
    },
    definesRoles(input) {
      return all.some((s) => s.roles?.(input) !== undefined);
    },
  };
}
