// Markdown → man(7) roff, for the subset tandem's docs use: headings, paragraphs, lists, code
// blocks, pipe tables, `code`, **bold**, *italic*, [links](url). What it does not know stays text.

/** Escapes text for roff: backslashes, and a leading dot or quote that would start a request. */
function escape(text: string): string {
  return text.replace(/\\/g, "\\e");
}

/** Guards a line against being read as a roff request. */
function guard(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** Inline markup: code and bold in bold, italic in italic, links as their text (with the URL for absolute ones). */
export function inline(text: string): string {
  const out: string[] = [];
  // Code spans first: nothing inside them is markup.
  const parts = text.split(/(`[^`]*`)/);
  for (const part of parts) {
    if (part.startsWith("`") && part.endsWith("`") && part.length >= 2) {
      out.push(`\\fB${escape(part.slice(1, -1)).replace(/-/g, "\\-")}\\fR`);
      continue;
    }
    out.push(
      escape(part)
        .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, label: string, url: string) => (/^https?:/.test(url) ? `${label} <${url}>` : label))
        .replace(/\*\*([^*]+)\*\*/g, "\\fB$1\\fR")
        .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)/g, "$1\\fI$2\\fR"),
    );
  }
  return out.join("");
}

/** The cells of a pipe-table row ("\|" is a literal bar). */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

/**
 * Converts markdown to roff body text. `##` becomes .SH (upper case), `###` .SS; `#` (the
 * document title) is dropped unless keepTitle. A table becomes one .TP per row: the first cell
 * as the tag, the others after it ("default: X" for a middle column named default).
 */
export function markdownToRoff(md: string, options: { shift?: number } = {}): string {
  const lines = md.split("\n");
  const out: string[] = [];
  let para: string[] = [];
  const flush = () => {
    // One line per paragraph: bold or code that runs across source lines stays whole.
    if (para.length) out.push(".PP", guard(inline(para.join(" "))));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1].length + (options.shift ?? 0);
      if (level <= 1) continue;
      out.push(level === 2 ? `.SH "${inline(heading[2]).toUpperCase().replace(/"/g, "")}"` : `.SS "${inline(heading[2]).replace(/"/g, "")}"`);
      continue;
    }
    if (line.startsWith("```")) {
      flush();
      out.push(".PP", ".RS 4", ".nf");
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) out.push(guard(escape(lines[i])));
      out.push(".fi", ".RE");
      continue;
    }
    if (/^\|.*\|\s*$/.test(line) && i + 1 < lines.length && /^\|[\s:|-]+\|\s*$/.test(lines[i + 1])) {
      flush();
      const header = cells(line).map((h) => h.toLowerCase());
      for (i += 2; i < lines.length && /^\|/.test(lines[i]); i++) {
        const row = cells(lines[i]);
        out.push(".TP", guard(`\\fB${inline(row[0]).replace(/\\fB|\\fR/g, "")}\\fR`));
        const rest = row.slice(1).map((c, k) => (header[k + 1] === "default" ? `(default: ${c})` : c)).filter((c) => c !== "");
        out.push(guard(inline(rest.join(" "))));
      }
      i--;
      continue;
    }
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (item) {
      flush();
      let text = item[1];
      while (i + 1 < lines.length && /^\s{2,}\S/.test(lines[i + 1]) && !/^\s*[-*]\s/.test(lines[i + 1])) text += " " + lines[++i].trim();
      out.push(".IP \\(bu 2", guard(inline(text)));
      continue;
    }
    if (line.trim() === "") {
      flush();
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return out.join("\n") + "\n";
}
