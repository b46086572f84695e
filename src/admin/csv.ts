// The `;csv` stats export and `show stat`: haproxy's column names and order, for the columns tandem has.

import type { StatsSnapshot } from "./snapshot.ts";

/**
 * The columns, in haproxy's order (management guide §9.1), limited to those tandem fills.
 * type: 0 frontend, 1 backend, 2 server. lastchg in seconds; check_duration in ms.
 */
export const CSV_COLUMNS = [
  "pxname", "svname", "qcur", "scur", "smax", "slim", "stot", "bin", "bout", "econ", "status", "weight", "act", "bck",
  "chkfail", "chkdown", "lastchg", "pid", "type", "rate", "check_status", "check_duration", "check_desc", "addr", "mode",
] as const;

type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | undefined>>;

/** RFC 4180 §2: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(v: string | number | undefined): string {
  if (v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders the snapshot as haproxy-style CSV: a "# " header line, then one line per frontend, server and backend. */
export function statsCsv(s: StatsSnapshot): string {
  const rows: Row[] = [];
  const pid = s.info.pid;
  const since = (at: number) => (at > 0 ? Math.max(0, Math.floor((s.info.now - at) / 1000)) : undefined);
  for (const f of s.frontends) {
    rows.push({ pxname: f.name, svname: "FRONTEND", scur: f.scur, stot: f.stot, bin: f.bin, bout: f.bout, status: f.status, pid, type: 0, rate: Math.round(f.rate), mode: f.mode });
  }
  for (const b of s.backends) {
    for (const v of b.servers) {
      rows.push({
        pxname: b.name, svname: v.name, qcur: v.qcur, scur: v.scur, smax: v.smax, slim: v.slim, stot: v.stot, bin: v.bin, bout: v.bout,
        econ: v.econ, status: v.check || v.status !== "UP" ? v.status : "no check", weight: v.weight, act: v.backup ? 0 : 1, bck: v.backup ? 1 : 0,
        chkfail: v.check?.failures, chkdown: v.downs, lastchg: since(v.lastChange), pid, type: 2, rate: Math.round(v.rate),
        check_status: v.check?.status, check_duration: v.check?.status ? v.check.duration : undefined, check_desc: v.check?.detail, addr: v.address,
      });
    }
    rows.push({
      pxname: b.name, svname: "BACKEND", qcur: b.qcur, scur: b.scur, stot: b.stot, bin: b.bin, bout: b.bout, econ: b.econ,
      status: b.status, weight: b.weight, act: b.act, bck: b.bck, pid, type: 1, rate: Math.round(b.rate),
    });
  }
  const lines = [`# ${CSV_COLUMNS.join(",")}`];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => field(r[c])).join(","));
  return lines.join("\n") + "\n";
}
