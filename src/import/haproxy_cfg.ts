// haproxy.cfg as haproxy reads it: words per line (quotes, escapes, `#` comments), sections, file:line.

/** One configuration line split into words, with the comment written after it. */
export interface HaDirective {
  words: string[];
  /** 1-based line number. */
  line: number;
  /** Text after an unquoted `#`, trimmed; absent when there is none. */
  comment?: string;
}

/** A section: global, defaults, frontend, backend, listen, or one tandem does not know. */
export interface HaSection {
  kind: string;
  /** The name after the keyword (defaults may have none). */
  name?: string;
  /** Words after the name on the header line (listen/frontend addresses, `from NAME`). */
  args: string[];
  line: number;
  comment?: string;
  directives: HaDirective[];
}

export interface HaConfig {
  file: string;
  sections: HaSection[];
  /** Lines haproxy would reject or read surprisingly (unmatched quote, trailing backslash...). */
  problems: { line: number; message: string }[];
}

/** Keywords that open a section (haproxy 2.x/3.x). */
export const SECTION_KEYWORDS = new Set([
  "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "mailers",
  "program", "cache", "http-errors", "ring", "log-forward", "fcgi-app", "crt-store", "traces", "acme",
]);

/**
 * An environment variable reference haproxy expands in a double-quoted word: kept in words as
 * ENV_OPEN + "NAME" (or "NAME-default") + ENV_CLOSE, so the translators carry it as text and
 * the output writes it back as `${NAME}` in a double-quoted YAML string, which tandem's loader
 * expands the same way (src/config/env_vars.ts).
 */
export const ENV_OPEN = "\uE000";
export const ENV_CLOSE = "\uE001";
/** Matches one kept reference; group 1 is NAME or NAME-default. */
export const ENV_REF = /\uE000([^\uE001]*)\uE001/g;

export interface TokenizedLine {
  words: string[];
  comment?: string;
  problem?: string;
}

/**
 * Splits one line the way haproxy's parse_line() does: blanks separate words; `#` outside quotes
 * starts a comment, even inside a word; `"..."` and `'...'` group (single quotes take everything
 * literally); a backslash escapes a space, `#`, a quote, `\`, and `\t \r \n \xHH` are decoded.
 * `$VAR`, `${VAR}` and `${VAR-default}` inside double quotes are kept as references (ENV_OPEN...):
 * the environment of the old host is unknown, and tandem expands them the same way.
 */
export function tokenizeHaproxyLine(text: string): TokenizedLine {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  let comment: string | undefined;
  let problem: string | undefined;
  const end = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (c === "#" && !quote) {
      comment = text.slice(i + 1).trim();
      break;
    }
    if (c === "$" && quote === '"') {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*(?:-[^}]*)?)\}/.exec(text.slice(i));
      const bare = braced ? undefined : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      const m = braced ?? bare;
      if (m) {
        word += ENV_OPEN + m[1] + ENV_CLOSE;
        i += m[0].length - 1;
        continue;
      }
    }
    if (c === '"' || (c === "'" && !quote)) {
      inWord = true;
      quote = quote === c ? undefined : (c as '"' | "'");
      continue;
    }
    if (c === "\\") {
      const n = text[i + 1];
      inWord = true;
      if (n === undefined) {
        problem = "a backslash ends the line: haproxy does not continue lines, it reads a literal backslash";
        word += c;
      } else if (n === " " || n === "\\" || n === "#" || n === "'" || n === '"') {
        word += n;
        i++;
      } else if (n === "t" || n === "r" || n === "n") {
        word += n === "t" ? "\t" : n === "r" ? "\r" : "\n";
        i++;
      } else if (n === "x" && /^[0-9a-f]{2}$/i.test(text.slice(i + 2, i + 4))) {
        word += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        word += c;
      }
      continue;
    }
    if ((c === " " || c === "\t" || c === "\r" || c === "\n" || c === "\f" || c === "\v") && !quote) {
      end();
      continue;
    }
    inWord = true;
    word += c;
  }
  if (quote) problem = `unmatched ${quote === '"' ? "double" : "single"} quote`;
  end();
  return { words, comment: comment || undefined, problem };
}

/**
 * Parses haproxy.cfg text into sections. Never throws: lines before any section and lines haproxy
 * would reject are reported in problems. Line numbers are 1-based.
 */
export function parseHaproxyConfig(text: string, file: string): HaConfig {
  const sections: HaSection[] = [];
  const problems: HaConfig["problems"] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let current: HaSection | undefined;
  lines.forEach((raw, index) => {
    const line = index + 1;
    const t = tokenizeHaproxyLine(raw);
    if (t.problem) problems.push({ line, message: t.problem });
    if (t.words.length === 0) return;
    const keyword = t.words[0];
    if (SECTION_KEYWORDS.has(keyword)) {
      const name = keyword === "global" ? undefined : t.words[1];
      current = { kind: keyword, name, args: t.words.slice(name === undefined ? 1 : 2), line, comment: t.comment, directives: [] };
      sections.push(current);
      return;
    }
    if (!current) {
      problems.push({ line, message: `"${keyword}" appears before any section (global, defaults, listen...)` });
      return;
    }
    current.directives.push({ words: t.words, line, comment: t.comment });
  });
  return { file, sections, problems };
}
