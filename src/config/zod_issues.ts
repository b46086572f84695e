// Turns zod issues into diagnostics a person can act on: plain words, ranges, "did you mean".

import type { z } from "zod";
import type { Diagnostic, Path } from "./diagnostics.ts";
import { bestMatch, didYouMean } from "./suggest.ts";

// deno-lint-ignore no-explicit-any
type AnyDef = any;
type Issue = z.core.$ZodIssue;

/** Every object key the schema allows at path (objects inside unions contribute all their keys). */
export function knownKeysAt(schema: z.ZodType, path: Path): Set<string> {
  const keys = new Set<string>();
  const visit = (s: AnyDef, rest: Path, depth: number): void => {
    if (!s || depth > 40) return;
    const def = s._zod?.def;
    if (!def) return;
    switch (def.type) {
      case "object":
        if (rest.length === 0) Object.keys(def.shape).forEach((k) => keys.add(k));
        else if (typeof rest[0] === "string" && def.shape[rest[0]]) visit(def.shape[rest[0]], rest.slice(1), depth + 1);
        return;
      case "record":
        if (rest.length > 0) visit(def.valueType, rest.slice(1), depth + 1);
        return;
      case "array":
        if (rest.length > 0) visit(def.element, rest.slice(1), depth + 1);
        return;
      case "union":
        for (const o of def.options) visit(o, rest, depth + 1);
        return;
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "catch":
        visit(def.innerType, rest, depth + 1);
        return;
      case "pipe":
        visit(def.in, rest, depth + 1);
        return;
      case "lazy":
        visit(def.getter(), rest, depth + 1);
        return;
    }
  };
  visit(schema, path, 0);
  return keys;
}

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `"${v}"`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

/** The value at path inside data, for messages. */
function valueAt(data: unknown, path: Path): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** How badly a union branch failed: a mismatch at the branch's own root rules it out. */
function branchScore(issues: Issue[]): number {
  let score = 0;
  for (const i of issues) {
    if (i.code === "invalid_union" && i.path.length === 0) score += Math.min(...(i.errors as Issue[][]).map(branchScore));
    else if (i.path.length === 0 && (i.code === "invalid_type" || i.code === "unrecognized_keys")) score += 100;
    else if (i.path.length === 1 && i.code === "invalid_value") score += 10;
    else score += 1;
  }
  return score;
}

/** Words people write for a key that has another name here (conditions say all/any, not and/or). */
const SYNONYMS: Record<string, string> = { and: "all", or: "any" };

/** "did you mean" for an unknown key: its synonym when that is allowed here, else the closest key. */
function keyHint(key: string, known: Set<string>): string | undefined {
  const synonym = SYNONYMS[key.toLowerCase()];
  if (synonym !== undefined && known.has(synonym)) return `did you mean "${synonym}"? (${synonym === "all" ? "every condition must hold" : "one condition is enough"})`;
  return didYouMean(key, known);
}

/**
 * Converts zod issues (from safeParse of data against schema) into diagnostics.
 * Union failures pick the branch the writer most plausibly meant.
 */
export function issuesToDiagnostics(issues: Issue[], schema: z.ZodType, data: unknown, base: Path = []): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    const path = [...base, ...(issue.path as Path)];
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeysAt(schema, path);
        for (const key of issue.keys) {
          const hint = keyHint(key, known) ?? (known.size ? `allowed here: ${[...known].join(", ")}` : undefined);
          out.push({ severity: "error", path: [...path, key], key: true, message: `unknown key "${key}"`, hint });
        }
        break;
      }
      case "invalid_union": {
        const branches = issue.errors as Issue[][];
        // Every branch rejects the same discriminating key: list what it may be.
        const firstKeys = branches.map((b) => b.find((i) => i.code === "invalid_value" && i.path.length === 1));
        if (firstKeys.every((i) => i && i.path[0] === firstKeys[0]!.path[0])) {
          const values = firstKeys.flatMap((i) => (i as z.core.$ZodIssueInvalidValue).values.map(String));
          const key = firstKeys[0]!.path[0] as string | number;
          const got = valueAt(data, [...path, key]);
          if (got === undefined) {
            // `{ deny: {...} }` for `{ action: deny, ... }`: the value written as a key.
            const here = valueAt(data, path);
            const asKey = here && typeof here === "object" ? Object.keys(here).find((k) => values.includes(k)) : undefined;
            out.push({
              severity: "error",
              path,
              message: `"${String(key)}" is missing: expected one of ${values.join(", ")}`,
              hint: asKey !== undefined ? `write "${String(key)}: ${asKey}" with the other keys beside it, not "${asKey}:" as a key` : undefined,
            });
            break;
          }
          out.push({
            severity: "error",
            path: [...path, key],
            message: `${describeType(got)} is not a valid ${String(key)}: expected one of ${values.join(", ")}`,
            hint: typeof got === "string" ? didYouMean(got, values) : undefined,
          });
          break;
        }
        // Every branch is an object that rejects the keys: one "unknown key" over all branches' keys.
        const objectBranches = branches.filter((b) => !b.some((i) => i.code === "invalid_type" && i.path.length === 0));
        if (objectBranches.length > 0 && objectBranches.every((b) => b.some((i) => i.code === "unrecognized_keys" && i.path.length === 0))) {
          const known = knownKeysAt(schema, path);
          const value = valueAt(data, path);
          const keys = value && typeof value === "object" ? Object.keys(value).filter((k) => !known.has(k)) : [];
          if (keys.length > 0) {
            for (const key of keys) {
              out.push({ severity: "error", path: [...path, key], key: true, message: `unknown key "${key}"`, hint: keyHint(key, known) ?? `allowed here: ${[...known].join(", ")}` });
            }
            break;
          }
        }
        const best = branches.reduce((a, b) => (branchScore(b) < branchScore(a) ? b : a));
        if (branchScore(best) >= 100) {
          const got = valueAt(data, path);
          const expected = branches.flatMap((b) => b.filter((i) => i.path.length === 0 && i.code === "invalid_type").map((i) => TYPE_WORDS[(i as z.core.$ZodIssueInvalidType).expected] ?? (i as z.core.$ZodIssueInvalidType).expected));
          const words = [...new Set(expected)];
          out.push({ severity: "error", path, message: `expected ${words.length ? words.join(" or ") : "another form"}, got ${describeType(got)}` });
        } else {
          out.push(...issuesToDiagnostics(best, schema, data, path));
        }
        break;
      }
      case "invalid_type": {
        const got = valueAt(data, path);
        if (got === undefined) {
          const missing = String(path[path.length - 1]);
          // A misspelt required key is reported once, as the unknown key with its suggestion.
          const parent = valueAt(data, path.slice(0, -1));
          const known = knownKeysAt(schema, path.slice(0, -1));
          const typo = parent && typeof parent === "object" && Object.keys(parent).some((k) => !known.has(k) && bestMatch(k, [missing]) === missing);
          if (typo) break;
          // Point at the parent mapping's key, since this key is absent.
          out.push({ severity: "error", path: path.slice(0, -1), key: true, message: issue.message.startsWith("Invalid input") ? `missing required key "${missing}"` : issue.message });
        } else {
          const want = TYPE_WORDS[issue.expected] ?? issue.expected;
          out.push({ severity: "error", path, message: issue.message.startsWith("Invalid input") ? `expected ${want}, got ${describeType(got)}` : issue.message });
        }
        break;
      }
      case "invalid_value": {
        const got = valueAt(data, path);
        const values = issue.values.map(String);
        out.push({
          severity: "error",
          path,
          message: `${describeType(got)} is not allowed here: expected ${values.length === 1 ? values[0] : `one of ${values.join(", ")}`}`,
          hint: typeof got === "string" ? didYouMean(got, values) : undefined,
        });
        break;
      }
      default: {
        const hint = (issue as { params?: { hint?: string } }).params?.hint;
        out.push({ severity: "error", path, message: issue.message, hint });
      }
    }
  }
  return out;
}
