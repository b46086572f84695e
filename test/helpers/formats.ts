// Independent parsers for the machine formats the stats page serves: RFC 4180 CSV and the Prometheus text format.

/** Parses CSV per RFC 4180 (quoted fields, doubled quotes, CRLF or LF). Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || (ch === "\r" && text[i + 1] === "\n")) {
      if (ch === "\r") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (quoted) throw new Error("CSV: unterminated quoted field");
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** haproxy CSV: the "# " header names the columns; each row becomes a record. */
export function parseHaproxyCsv(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header || !header[0].startsWith("# ")) throw new Error(`CSV: expected a "# " header line, got ${JSON.stringify(header)}`);
  const names = [header[0].slice(2), ...header.slice(1)];
  return rows.map((r) => {
    if (r.length !== names.length) throw new Error(`CSV: row has ${r.length} fields, header ${names.length}: ${r.join(",")}`);
    return Object.fromEntries(names.map((n, i) => [n, r[i]]));
  });
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SUFFIXES: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], summary: ["_sum", "_count", ""], counter: ["", "_total"], gauge: [""], untyped: [""] };

/**
 * Parses the Prometheus text exposition format 0.0.4: HELP/TYPE lines and samples
 * `name{label="value",...} value [timestamp]`, with label-value escapes (\\, \", \n).
 * Throws on a malformed line, a sample without a TYPE, a duplicate series, or a bad value.
 */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const family = (sample: string) => {
    for (const f of families.values()) if ((SUFFIXES[f.type] ?? [""]).some((s) => f.name + s === sample)) return f;
    return undefined;
  };
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`line ${i + 1}: bad metric name ${name}`);
      const f = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`line ${i + 1}: bad type ${rest}`);
        f.type = rest;
      } else f.help = rest;
      families.set(name, f);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
      let pos = 0;
      while (pos < m[3].length) {
        re.lastIndex = pos;
        const l = re.exec(m[3]);
        if (!l) throw new Error(`line ${i + 1}: bad labels: ${m[3]}`);
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
        pos = re.lastIndex;
      }
    }
    const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : m[4] === "NaN" ? NaN : Number(m[4]);
    if (Number.isNaN(value) && m[4] !== "NaN") throw new Error(`line ${i + 1}: bad value ${m[4]}`);
    const f = family(m[1]);
    if (!f) throw new Error(`line ${i + 1}: sample ${m[1]} has no TYPE line`);
    const key = `${m[1]}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${i + 1}: duplicate series ${key}`);
    seen.add(key);
    f.samples.push({ name: m[1], labels, value });
  }
  return families;
}
