// The normalized configuration of a host, as a hash and per-key hashes, so the two hosts of a
// pair can tell whether they run the same file and, when not, which keys differ first.

import { createHash } from "node:crypto";

/** A configuration's fingerprint: the whole (hex) and each leaf by its path, in file order. */
export interface Fingerprint {
  /** sha256 of the canonical form (object keys sorted), hex; "" when there is none. */
  hash: string;
  /** [path, first 12 hex of the leaf value's sha256], in the order the file writes them. */
  leaves: [string, string][];
}

/** Paths whose value is left out: secrets (the pair key) never travel, even hashed. */
const SECRET_PATHS = new Set(["pair.key"]);

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** JSON with object keys sorted, so the order keys are written in does not count. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value as object).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

const pathJoin = (base: string, key: string | number) => (typeof key === "number" ? `${base}[${key}]` : base ? `${base}.${key}` : key);

/**
 * The fingerprint of a validated config input (the file after its schema: durations in ms, sizes
 * as numbers, so "30s" and 30000 are the same). Secret paths are left out.
 */
export function fingerprint(input: Readonly<Record<string, unknown>>): Fingerprint {
  const leaves: [string, string][] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (SECRET_PATHS.has(path)) return undefined;
    if (Array.isArray(value)) {
      if (value.length === 0) leaves.push([path, sha("[]").slice(0, 12)]);
      return value.map((v, i) => walk(v, pathJoin(path, i)));
    }
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      const keys = Object.keys(value as object);
      if (keys.length === 0) leaves.push([path, sha("{}").slice(0, 12)]);
      for (const k of keys) out[k] = walk((value as Record<string, unknown>)[k], pathJoin(path, k));
      return out;
    }
    if (value === undefined) return undefined;
    leaves.push([path, sha(JSON.stringify(value)).slice(0, 12)]);
    return value;
  };
  const kept = walk(input, "");
  return { hash: sha(canonicalJson(kept)), leaves };
}

/**
 * The paths that differ between two fingerprints (changed, only ours, only theirs), ours in our
 * file's order first, then those only the peer has; at most `max`, plus the count left out.
 */
export function differingKeys(ours: readonly [string, string][], theirs: readonly [string, string][], max = 5): { keys: string[]; more: number } {
  const mine = new Map(ours);
  const other = new Map(theirs);
  const out: string[] = [];
  for (const [path, h] of ours) if (other.get(path) !== h) out.push(path);
  for (const [path] of theirs) if (!mine.has(path)) out.push(path);
  // A list that grew or shrank shows as many paths; the first few say where.
  return { keys: out.slice(0, max), more: Math.max(0, out.length - max) };
}

/** A short form of a hash for people ("1a2b3c4d5e6f"). */
export const shortHash = (hash: string): string => hash.slice(0, 12);
