// Config problems with their place in the file, rendered as file:line:col, a caret excerpt and a hint.

import type { Document, LineCounter } from "yaml";
import { isMap, isNode, isPair, isScalar, isSeq } from "yaml";

export type Path = (string | number)[];

export interface Diagnostic {
  severity: "error" | "warning";
  message: string;
  hint?: string;
  /** Where in the YAML tree; key: point at the key rather than the value. */
  path: Path;
  key?: boolean;
}

export interface Located extends Diagnostic {
  line: number;
  col: number;
  /** The whole source line and the caret span inside it. */
  excerpt?: { text: string; start: number; end: number };
}

/** Collects diagnostics during validation. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];
  error(path: Path, message: string, hint?: string, key = false): void {
    this.items.push({ severity: "error", path, message, hint, key });
  }
  warn(path: Path, message: string, hint?: string, key = false): void {
    this.items.push({ severity: "warning", path, message, hint, key });
  }
  get errorCount(): number {
    return this.items.filter((d) => d.severity === "error").length;
  }
}

/** Finds the source range of path in doc: the value node, or the key node when key is set. */
function rangeOf(doc: Document, path: Path, key: boolean): [number, number] | undefined {
  let node: unknown = doc.contents;
  let lastRange: [number, number] | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isNode(node) && node.range) lastRange = [node.range[0], node.range[1]];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (i === path.length - 1 && key && isNode(pair.key) && pair.key.range) return [pair.key.range[0], pair.key.range[1]];
      if (pair.value === null || pair.value === undefined) {
        if (isNode(pair.key) && pair.key.range) return [pair.key.range[0], pair.key.range[1]];
        return lastRange;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg];
    } else {
      break;
    }
    if (i === path.length - 1 && isNode(node) && node.range) return [node.range[0], node.range[1]];
  }
  if (path.length === 0 && isNode(node) && node.range) return [node.range[0], node.range[1]];
  return lastRange;
}

/** Attaches line/col and an excerpt to each diagnostic. */
export function locate(items: Diagnostic[], doc: Document | undefined, text: string, lc: LineCounter | undefined): Located[] {
  return items.map((d) => {
    const range = doc ? rangeOf(doc, d.path, d.key ?? false) : undefined;
    if (!range || !lc) return { ...d, line: 1, col: 1 };
    return locateOffset(d, range[0], range[1], text, lc);
  });
}

/** Places a diagnostic at a byte range. */
export function locateOffset(d: Diagnostic, start: number, end: number, text: string, lc: LineCounter): Located {
  const pos = lc.linePos(start);
  const lineStart = lc.lineStarts[pos.line - 1] ?? 0;
  const nl = text.indexOf("\n", lineStart);
  const lineText = text.slice(lineStart, nl < 0 ? text.length : nl).replace(/\r$/, "");
  const caretStart = start - lineStart;
  const caretEnd = Math.max(caretStart + 1, Math.min(end - lineStart, lineText.length));
  return { ...d, line: pos.line, col: pos.col, excerpt: { text: lineText, start: caretStart, end: caretEnd } };
}

/** Renders one located diagnostic for a terminal. */
export function formatDiagnostic(file: string, d: Located): string {
  const out = [`${file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`];
  if (d.excerpt) {
    const num = String(d.line);
    const pad = " ".repeat(num.length);
    out.push(` ${num} | ${d.excerpt.text}`);
    out.push(` ${pad} | ${" ".repeat(d.excerpt.start)}${"^".repeat(d.excerpt.end - d.excerpt.start)}`);
  }
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join("\n");
}
