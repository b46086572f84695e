// The seam between the loader and the subsystems: each subsystem registers the sections it owns.

import type { z } from "zod";
import type { Diagnostics } from "./diagnostics.ts";
import type { BaseConfig, Role } from "./types.ts";

/** What a section sees while it resolves its keys for one role. */
export interface SectionContext {
  file: string;
  role: Role;
  /**
   * The whole file after schema validation (every section's keys). Entries that failed their
   * schema are left out of mappings and undefined in lists (so list positions still match the
   * file). Sections read others' keys only for defaults they share.
   */
  input: Readonly<Record<string, unknown>>;
  /**
   * Names written under a top-level key, valid or not: a reference to an entry that failed its
   * schema is not also reported as unknown.
   */
  written(key: string): ReadonlySet<string>;
  /** Errors reported so far, by their first two path segments ("proxies.web"). */
  faulty(entry: string): boolean;
  /**
   * True once per file: checks that concern every role at once (the other role's resolution
   * adds only what differs).
   */
  firstRole: boolean;
}

/**
 * A part of tandem.yaml owned by one subsystem: its keys and their schema, how they resolve for a
 * role, and every check on them. (haproxy registers keywords per subsystem with
 * cfg_register_keywords; keepalived installs keywords per block.)
 */
export interface ConfigSection<Out extends object = object> {
  /** For messages and docs: "proxy", "vrrp"... */
  readonly name: string;
  /** The top-level YAML keys this section owns, with their schema. */
  readonly keys: Record<string, z.ZodType>;
  /**
   * Keys validated entry by entry (a mapping of named entries or a list), so one bad entry does
   * not hide the others' problems: the schema of one entry.
   */
  readonly entries?: Record<string, { kind: "record" | "list"; entry: z.ZodType }>;
  /** Resolves the section for ctx.role into its part of the config. Reports problems; never throws. */
  normalize(ctx: SectionContext, diag: Diagnostics): Out;
  /**
   * Checks that need other sections' resolved parts (a reference to a proxy, a clash between two
   * binds), run after every section normalized.
   */
  check?(config: BaseConfig & Out & Readonly<Record<string, unknown>>, ctx: SectionContext, diag: Diagnostics): void;
  /** The roles the file defines through this section (vrrp.roles); none: master and backup. */
  roles?(input: Readonly<Record<string, unknown>>): string[] | undefined;
}
