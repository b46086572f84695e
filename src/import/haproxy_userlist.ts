// haproxy `userlist` sections → tandem's userlists: (users with crypt(3) hashes or plain passwords, groups).

import type { HaSection } from "./haproxy_cfg.ts";
import type { Ctx } from "./haproxy_context.ts";
import { drop } from "./haproxy_context.ts";
import { cryptScheme } from "../proxy/auth/crypt.ts";

/**
 * `user NAME password HASH [groups G1,G2]`, `user NAME insecure-password PW [groups ...]`,
 * `group NAME [users U1,U2]` → userlists.NAME. A hash tandem cannot check (bcrypt, yescrypt,
 * DES) is refused: those users could no longer log in.
 */
export function translateUserlist(ctx: Ctx, s: HaSection): void {
  const name = s.name ?? "";
  const at = ["userlists", name];
  const users: Record<string, Record<string, unknown>> = {};
  const groups: Record<string, string[]> = {};
  for (const d of s.directives) {
    const [kw, who, ...rest] = d.words;
    if (kw === "group" && who) {
      const i = rest.indexOf("users");
      groups[who] = i >= 0 ? (rest[i + 1] ?? "").split(",").filter(Boolean) : [];
      continue;
    }
    if (kw !== "user" || !who) {
      drop(ctx, d, `"${kw}" has no tandem equivalent in a userlist`, at, undefined, "security");
      continue;
    }
    const u: Record<string, unknown> = {};
    for (let i = 0; i < rest.length; i += 2) {
      const [k, v] = [rest[i], rest[i + 1] ?? ""];
      if (k === "password") {
        const scheme = cryptScheme(v);
        if (typeof scheme !== "string") {
          drop(ctx, d, `the password of "${who}" is ${scheme.unsupported}, which tandem cannot check: hash it again with SHA-512 (mkpasswd -m sha-512)`, at, undefined, "security");
          u.unusable = true;
        }
        u.password = v;
      } else if (k === "insecure-password") u.insecure_password = v;
      else if (k === "groups") u.groups = v.split(",").filter(Boolean);
      else drop(ctx, d, `the user option "${k}" has no tandem equivalent`, at, [k, v], "security");
    }
    if (u.unusable) continue;
    if (u.password === undefined && u.insecure_password === undefined) {
      drop(ctx, d, `user "${who}" has no password`, at, undefined, "security");
      continue;
    }
    users[who] = u;
  }
  // A group's members must be users of the list (tandem checks it too).
  for (const [g, members] of Object.entries(groups)) groups[g] = members.filter((m) => users[m] !== undefined);
  const list = { users, ...(Object.values(groups).some((m) => m.length > 0) ? { groups: Object.fromEntries(Object.entries(groups).filter(([, m]) => m.length > 0)) } : {}) };
  const all = (ctx.out.data.userlists as Record<string, unknown> | undefined) ?? {};
  all[name] = list;
  ctx.out.data.userlists = all;
  if (s.comment) ctx.out.comments.push({ path: at, text: s.comment, place: "before" });
}
