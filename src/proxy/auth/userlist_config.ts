// userlists: users with crypt(3) hashes or plain passwords, and groups (haproxy's `userlist` section).

import type { Diagnostics } from "../../config/diagnostics.ts";
import type { UserlistConfig } from "../config_types.ts";
import type { UserlistInput } from "../config_schema.ts";
import { cryptScheme, parseCryptHash } from "./crypt.ts";

/**
 * Resolves `userlists:`: each user has exactly one of password (a crypt(3) hash) or
 * insecure_password; a hash scheme tandem cannot compute is an error (the users could not log
 * in); a malformed hash of a known scheme is a warning, as haproxy loads it and matches nothing.
 * Groups list users; a user's own `groups` and the group lists are merged.
 */
export function normalizeUserlists(input: Record<string, UserlistInput> | undefined, diag: Diagnostics): Record<string, UserlistConfig> {
  const out: Record<string, UserlistConfig> = {};
  for (const [name, u] of Object.entries(input ?? {})) {
    const path = ["userlists", name];
    const users: UserlistConfig["users"] = {};
    for (const [user, e] of Object.entries(u.users)) {
      const at = [...path, "users", user];
      if ((e.password === undefined) === (e.insecure_password === undefined)) {
        diag.error(at, `user "${user}" needs exactly one of password (a crypt(3) hash) or insecure_password`);
      }
      if (e.password !== undefined) {
        const scheme = cryptScheme(e.password);
        if (typeof scheme !== "string") {
          diag.error([...at, "password"], `the password of "${user}" is ${scheme.unsupported}, which tandem cannot check`, "hash it with SHA-512: mkpasswd -m sha-512, or openssl passwd -6");
        } else if (!parseCryptHash(e.password)) {
          diag.warn([...at, "password"], `the password hash of "${user}" is malformed: no password matches it, so "${user}" cannot log in`);
        }
      }
      users[user] = { ...(e.password !== undefined ? { password: e.password } : {}), ...(e.insecure_password !== undefined ? { insecurePassword: e.insecure_password } : {}), groups: [...(e.groups ?? [])] };
    }
    for (const [group, members] of Object.entries(u.groups ?? {})) {
      for (const m of members) {
        if (!users[m]) diag.error([...path, "groups", group], `group "${group}" names user "${m}", who is not in the userlist`);
        else if (!users[m].groups.includes(group)) users[m].groups.push(group);
      }
    }
    out[name] = { name, users };
  }
  return out;
}
