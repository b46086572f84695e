// Building blocks of the YAML schema: durations, sizes, ranged integers, binds, CIDRs.

import { z } from "zod";
import { parseDuration } from "../core/duration.ts";
import { parseSize } from "../core/size.ts";
import { parseBind, parseCidr, parseHostPort } from "../core/address.ts";

/** A duration: bare numbers are milliseconds; "5s", "30m", "1h30m". Output: milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a duration`, params: { hint: "write 4000 (milliseconds), 5s, 30m or 1h30m" } });
    return z.NEVER;
  }
  return ms;
});

/** A size: 10240k, 64k, 1m, or a plain number. */
export const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseSize(v);
  if (n === undefined) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a size`, params: { hint: "write 1000, 64k, 10240k or 1m (k = 1024)" } });
    return z.NEVER;
  }
  return n;
});

/** An integer in lo..hi with a message that states the range. */
export function int(lo: number, hi: number) {
  return z.number({ error: `expected a whole number ${lo}..${hi}` }).refine((n) => Number.isInteger(n) && n >= lo && n <= hi, {
    message: `must be a whole number ${lo}..${hi}`,
  });
}

/** A string parsed by fn (which throws Error with a reason); output is fn's result. */
function parsed<T>(what: string, fn: (s: string) => T, hint?: string) {
  return z.string({ error: `expected ${what} as a string` }).transform((v, ctx) => {
    try {
      return fn(v);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not ${what}: ${(err as Error).message}`, params: hint ? { hint } : undefined });
      return z.NEVER;
    }
  });
}

export const bindText = parsed("a bind address", parseBind, 'write "ip:port", ":port", "ip:80,443", "ip:6001-6004" or "[::1]:80"');
export const cidr = parsed("an address with prefix", parseCidr, 'write "192.168.8.248/24"');
export const hostPort = parsed("host:port", parseHostPort, 'write "127.0.0.1:7000"');

/** A status range: 200, "200-399", or [200, 204]. Output: { min, max }. */
export const statusRange = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const text = String(v).trim();
  const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(text);
  if (!m || Number(m[1]) < 100 || Number(m[2] ?? m[1]) > 599 || Number(m[2] ?? m[1]) < Number(m[1])) {
    ctx.addIssue({ code: "custom", message: `"${text}" is not an HTTP status or range`, params: { hint: 'write 200 or "200-399"' } });
    return z.NEVER;
  }
  return { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
});

/** A file mode written as "0600" (octal text) or a number. */
export const fileMode = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === "number" ? parseInt(String(v), 8) : /^0?[0-7]{3}$/.test(v) ? parseInt(v, 8) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0o777) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a file mode`, params: { hint: 'write "0600"' } });
    return z.NEVER;
  }
  return n;
});

/** One string or a list of strings → list. */
export const stringList = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
