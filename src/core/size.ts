// Sizes as the config writes them: 10240k entries, 64k bytes, 1m, 2g (powers of 1024, as haproxy).

const UNIT: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses "10240k" → 10485760; a bare number is itself. Returns undefined when invalid. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^(\d+)\s*([kmg]?)b?$/i.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT[m[2].toLowerCase()];
}
