// Picks the role from --role (case-insensitive, only among the roles the file defines) and loads
// the config for it: the one sequence every command that reads tandem.yaml runs.

import type { ConfigLoader, LoadResult } from "../config/loader.ts";
import type { BaseConfig, Role } from "../config/types.ts";
import { UsageError } from "../core/errors.ts";

/**
 * Returns the role for value, or throws UsageError naming the roles available. `optional`: no
 * section of the file defines roles (no vrrp: every node runs it alike, as with bgp), so a missing
 * --role is master.
 */
export function resolveRole(value: string | undefined, available: Role[], optional = false): Role {
  const list = available.join(", ") || "none";
  if (value === undefined && optional) return "master";
  if (value === undefined) throw new UsageError(`missing --role: this file defines the roles ${list}`);
  const role = value.toLowerCase();
  if (!available.includes(role as Role)) throw new UsageError(`unknown role "${value}": this file defines the roles ${list}`);
  return role as Role;
}

/**
 * Loads file for the role named by roleArg. Without roleArg: the master's view, unless the role
 * is required (running the daemon) and the file defines its roles, which throws UsageError. An
 * unknown role throws UsageError.
 * Throws TandemError E_READ when the file cannot be read; problems are in the result.
 */
export function loadForRole<C extends BaseConfig>(loader: ConfigLoader<C>, file: string, roleArg: string | undefined, required = false): LoadResult<C> {
  const first = loader.file(file, "master");
  // Without a role, or with a file the schema rejected (its errors are the answer), the master's view.
  if (!required && (roleArg === undefined || !first.input)) return first;
  const role = resolveRole(roleArg, first.input ? loader.roles(first.input) : ["master", "backup"], first.input !== undefined && !loader.definesRoles(first.input));
  return role === "master" ? first : loader.file(file, role);
}
