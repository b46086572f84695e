// Number, byte and time formatting for the stats page (pure functions, tested without a browser).

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Seconds → "42s", "5m 3s", "2h 10m", "3d 4h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A wall-clock ms time as "Xs ago" relative to now ("never" when absent). */
export function ago(now: number, at: number | string | undefined): string {
  if (at === undefined || at === 0) return "never";
  const t = typeof at === "string" ? Date.parse(at) : at;
  return Number.isFinite(t) ? `${duration((now - t) / 1000)} ago` : "never";
}

/** A rate per second with one decimal below 10. */
export function rate(n: number): string {
  return n < 10 ? n.toFixed(1).replace(/\.0$/, "") : String(Math.round(n));
}

/** A count with thin thousands separators: 1234567 → "1 234 567". */
export function count(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}
