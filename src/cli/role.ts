// Picks the role from --role: case-insensitive, and only among the roles the file defines.

import type { Role } from "../config/types.ts";
import { UsageError } from "../core/errors.ts";
import type { ConfigInput } from "../config/schema.ts";

/** Roles the file defines: vrrp.roles, or master and backup when there is no vrrp section. */
export function definedRoles(input: ConfigInput | undefined): Role[] {
  const roles = input?.vrrp ? Object.keys(input.vrrp.roles).map((r) => r.toLowerCase()) : ["master", "backup"];
  return roles.filter((r): r is Role => r === "master" || r === "backup");
}

/**
 * Returns the role for value, or throws UsageError naming the roles available. `optional`: the
 * file has no vrrp section (every node runs it alike, e.g. with bgp), so a missing --role is master.
 */
export function resolveRole(value: string | undefined, available: Role[], optional = false): Role {
  const list = available.join(", ") || "none";
  if (value === undefined && optional) return "master";
  if (value === undefined) throw new UsageError(`missing --role: this file defines the roles ${list}`);
  const role = value.toLowerCase();
  if (!available.includes(role as Role)) throw new UsageError(`unknown role "${value}": this file defines the roles ${list}`);
  return role as Role;
}
