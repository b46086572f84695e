// What `tandem import` tells the user: directives it could not carry over, traps, disagreements.

/** A place in tandem.yaml (keys and list indexes), where a note is written as a comment. */
export type YamlPath = (string | number)[];

/**
 * refused: a directive that cannot be carried over and whose loss would weaken security or change
 * where requests go or what they carry (stderr and a comment; nothing is written without --force).
 * untranslated: a directive that has no equivalent, an operational or cosmetic loss (stderr and a
 * comment).
 * warning: carried over, but the user must look (stderr and a comment).
 * error: the inputs contradict each other, or the output needs a decision (stderr and a comment; exit code 1).
 * info: an explanation of a choice the import made (a comment only).
 */
export type NoteKind = "refused" | "untranslated" | "warning" | "error" | "info";

/** What a refused directive did that the output would lose. */
export type Impact = "security" | "routing" | "rewrite";

const IMPACT_TEXT: Record<Impact, string> = {
  security: "security would be weakened",
  routing: "requests would go elsewhere",
  rewrite: "requests or responses would arrive changed",
};

export interface ImportNote {
  kind: NoteKind;
  file: string;
  /** 1-based line in file; 0 when the note is about the file as a whole. */
  line: number;
  /** The directive as written (untranslated and refused notes). */
  directive?: string;
  /** refused: what would be lost. */
  impact?: Impact;
  message: string;
  /** Where in the output the comment goes; absent: the top of the file. */
  at?: YamlPath;
}

/** Collects notes in the order they are found; the same note twice (a default-server keyword on every server) is kept once. */
export class ImportNotes {
  readonly items: ImportNote[] = [];
  #seen = new Set<string>();

  #push(n: ImportNote): void {
    const key = `${n.kind}|${n.file}|${n.line}|${n.directive ?? ""}|${n.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.items.push(n);
  }

  /** A directive without an equivalent: `file:line: not translated: <directive>: <reason>`. */
  untranslated(file: string, line: number, directive: string, reason: string, at?: YamlPath): void {
    this.#push({ kind: "untranslated", file, line, directive, message: reason, at });
  }
  /** A directive whose loss weakens security or changes routing: `file:line: refused: <directive>: <reason> (<impact>)`. */
  refused(file: string, line: number, directive: string, reason: string, impact: Impact, at?: YamlPath): void {
    this.#push({ kind: "refused", file, line, directive, message: reason, impact, at });
  }
  warn(file: string, line: number, message: string, at?: YamlPath): void {
    this.#push({ kind: "warning", file, line, message, at });
  }
  error(file: string, line: number, message: string, at?: YamlPath): void {
    this.#push({ kind: "error", file, line, message, at });
  }
  info(file: string, line: number, message: string, at?: YamlPath): void {
    this.#push({ kind: "info", file, line, message, at });
  }
  get errorCount(): number {
    return this.items.filter((n) => n.kind === "error").length;
  }
}

/** Renders a note as one line: `haproxy.cfg:4: not translated: daemon: <reason>`. */
export function formatNote(n: ImportNote): string {
  return noteLine(n).replace(/\uE000([^\uE001]*)\uE001/g, "$${$1}");
}

function noteLine(n: ImportNote): string {
  const place = n.line > 0 ? `${n.file}:${n.line}` : n.file;
  switch (n.kind) {
    case "untranslated":
      return `${place}: not translated: ${n.directive}: ${n.message}`;
    case "refused":
      return `${place}: refused: ${n.directive}: ${n.message} (${IMPACT_TEXT[n.impact ?? "security"]})`;
    case "warning":
      return `${place}: warning: ${n.message}`;
    case "error":
      return `${place}: error: ${n.message}`;
    default:
      return `${place}: note: ${n.message}`;
  }
}

/** Shortens a directive for messages: the words joined, cut at 80 characters. */
export function directiveText(words: string[]): string {
  const text = words.map((w) => (w === "" || /\s/.test(w) ? JSON.stringify(w) : w)).join(" ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
