// HTTP Basic authentication against a userlist (RFC 7617), with a bounded cache of verdicts.

import { createHash } from "node:crypto";
import type { UserlistConfig } from "../config_types.ts";
import { cryptVerify } from "./crypt.ts";

/** Verdicts kept; a crypt(3) check costs milliseconds, a lookup nothing. */
const CACHE_MAX = 1024;

/** The user and password of an `Authorization: Basic ...` value (RFC 7617 §2), or undefined. */
export function basicCredentials(authorization: string | undefined): { user: string; password: string } | undefined {
  if (authorization === undefined) return undefined;
  const m = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(authorization);
  if (!m) return undefined;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * A userlist at run time. `check` returns the user an Authorization value authenticates; verdicts
 * are cached by a SHA-256 of the value (the credentials themselves are not kept), so a client
 * sending the same header on every request pays the crypt(3) cost once.
 */
export class Userlist {
  readonly config: UserlistConfig;
  #cache = new Map<string, string>();

  constructor(config: UserlistConfig) {
    this.config = config;
  }

  /** The authenticated user name, or undefined (no header, not Basic, unknown user, wrong password). */
  check(authorization: string | undefined): string | undefined {
    if (authorization === undefined) return undefined;
    const key = createHash("sha256").update(authorization).digest("base64");
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit === "" ? undefined : hit;
    const user = this.#verify(authorization);
    if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
    this.#cache.set(key, user ?? "");
    return user;
  }

  /** Whether user belongs to one of groups. */
  inGroups(user: string, groups: readonly string[]): boolean {
    const u = this.config.users[user];
    return u !== undefined && groups.some((g) => u.groups.includes(g));
  }

  #verify(authorization: string): string | undefined {
    const c = basicCredentials(authorization);
    if (!c) return undefined;
    const u = Object.hasOwn(this.config.users, c.user) ? this.config.users[c.user] : undefined;
    if (!u) return undefined;
    if (u.insecurePassword !== undefined) return u.insecurePassword === c.password ? c.user : undefined;
    return u.password !== undefined && cryptVerify(c.password, u.password) ? c.user : undefined;
  }
}

const compiled = new WeakMap<UserlistConfig, Userlist>();

/** The run-time userlist of a config object, made once (a reload brings new objects and a new cache). */
export function userlistOf(config: UserlistConfig): Userlist {
  let u = compiled.get(config);
  if (!u) compiled.set(config, (u = new Userlist(config)));
  return u;
}
