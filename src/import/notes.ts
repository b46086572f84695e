// What `tandem import` tells the user: directives it could not carry over, traps, disagreements.

/** A place in tandem.yaml (keys and list indexes), where a note is written as a comment. */
export type YamlPath = (string | number)[];

/**
 * untranslated: a directive that has no equivalent (stderr and a comment).
 * warning: carried over, but the user must look (stderr and a comment).
 * error: the inputs contradict each other (stderr and a comment; exit code 1).
 * info: an explanation of a choice the import made (a comment only).
 */
export type NoteKind = "untranslated" | "warning" | "error" | "info";

export interface ImportNote {
  kind: NoteKind;
  file: string;
  /** 1-based line in file; 0 when the note is about the file as a whole. */
  line: number;
  /** The directive as written (untranslated notes). */
  directive?: string;
  message: string;
  /** Where in the output the comment goes; absent: the top of the file. */
  at?: YamlPath;
}

/** Collects notes in the order they are found. */
export class ImportNotes {
  readonly items: ImportNote[] = [];

  /** A directive without an equivalent: `file:line: not translated: <directive>: <reason>`. */
  untranslated(file: string, line: number, directive: string, reason: string, at?: YamlPath): void {
    this.items.push({ kind: "untranslated", file, line, directive, message: reason, at });
  }
  warn(file: string, line: number, message: string, at?: YamlPath): void {
    this.items.push({ kind: "warning", file, line, message, at });
  }
  error(file: string, line: number, message: string, at?: YamlPath): void {
    this.items.push({ kind: "error", file, line, message, at });
  }
  info(file: string, line: number, message: string, at?: YamlPath): void {
    this.items.push({ kind: "info", file, line, message, at });
  }
  get errorCount(): number {
    return this.items.filter((n) => n.kind === "error").length;
  }
}

/** Renders a note as one line: `haproxy.cfg:4: not translated: daemon: <reason>`. */
export function formatNote(n: ImportNote): string {
  const place = n.line > 0 ? `${n.file}:${n.line}` : n.file;
  switch (n.kind) {
    case "untranslated":
      return `${place}: not translated: ${n.directive}: ${n.message}`;
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
