// keepalived.conf as keepalived reads it: statements, nested `{ }` blocks, `!`/`#` comments, file:line.

/** A statement: a keyword, its arguments, and the block that follows it, if any. */
export interface KaNode {
  keyword: string;
  args: string[];
  /** 1-based line of the keyword. */
  line: number;
  comment?: string;
  /** Present when the statement opens a `{ ... }` block. */
  children?: KaNode[];
}

export interface KaConfig {
  file: string;
  nodes: KaNode[];
  /** Unbalanced braces, unmatched quotes... with their line. */
  problems: { line: number; message: string }[];
}

interface Token {
  text: string;
  line: number;
  /** `{` or `}` written as such (a quoted "{" is a word). */
  brace?: boolean;
}

/**
 * Splits text into tokens the way keepalived does: blanks separate words; `{` and `}` are tokens
 * of their own even when glued to a word; `!` or `#` at the start of a word begins a comment;
 * double quotes group words (the quotes are dropped); a backslash at the end of a line continues
 * the statement on the next line. Statements end at the end of a line.
 */
function tokenize(text: string, problems: KaConfig["problems"]): { statements: Token[][]; comments: Map<number, string> } {
  const statements: Token[][] = [];
  const comments = new Map<number, string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let pending: Token[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    let raw = lines[index];
    const continued = /(^|[^\\])\\\s*$/.test(raw);
    if (continued) raw = raw.replace(/\\\s*$/, "");
    let word = "";
    let inWord = false;
    let quoted = false;
    const end = () => {
      if (inWord) pending.push({ text: word, line });
      word = "";
      inWord = false;
    };
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quoted) {
        if (c === '"') quoted = false;
        else word += c;
        continue;
      }
      if ((c === "!" || c === "#") && !inWord) {
        const text = raw.slice(i + 1).trim();
        if (text) comments.set(line, text);
        break;
      }
      if (c === '"') {
        quoted = true;
        inWord = true;
        continue;
      }
      if (c === "{" || c === "}") {
        end();
        pending.push({ text: c, line, brace: true });
        continue;
      }
      if (c === " " || c === "\t" || c === "\r") {
        end();
        continue;
      }
      inWord = true;
      word += c;
    }
    if (quoted) problems.push({ line, message: "unmatched double quote" });
    end();
    if (!continued && pending.length > 0) {
      statements.push(pending);
      pending = [];
    }
  }
  if (pending.length > 0) statements.push(pending);
  return { statements, comments };
}

/**
 * Parses keepalived.conf text into a tree of statements. Never throws: unbalanced braces are
 * reported in problems and the tree is closed where the file ends.
 */
export function parseKeepalivedConfig(text: string, file: string): KaConfig {
  const problems: KaConfig["problems"] = [];
  const { statements, comments } = tokenize(text, problems);
  const root: KaNode[] = [];
  const stack: { children: KaNode[]; opener?: KaNode }[] = [{ children: root }];
  const top = () => stack[stack.length - 1];
  const nodeLines = new Set<number>();
  for (const tokens of statements) {
    let node: KaNode | undefined;
    for (const t of tokens) {
      if (t.brace && t.text === "{") {
        if (!node) {
          problems.push({ line: t.line, message: `"{" without a keyword before it` });
          node = { keyword: "", args: [], line: t.line };
          top().children.push(node);
        }
        node.children = [];
        stack.push({ children: node.children, opener: node });
        node = undefined;
      } else if (t.brace) {
        if (stack.length === 1) problems.push({ line: t.line, message: `"}" closes nothing` });
        else {
          // A comment after "}" describes the block it closes.
          const closed = stack.pop()!.opener!;
          if (!closed.comment && !nodeLines.has(t.line)) closed.comment = comments.get(t.line);
        }
        node = undefined;
      } else if (!node) {
        node = { keyword: t.text, args: [], line: t.line, comment: comments.get(t.line) };
        nodeLines.add(t.line);
        top().children.push(node);
      } else {
        node.args.push(t.text);
      }
    }
  }
  for (const open of stack.slice(1)) {
    problems.push({ line: open.opener!.line, message: `the block of "${open.opener!.keyword}" is never closed` });
  }
  return { file, nodes: root, problems };
}

/** The first child named keyword, or undefined. */
export function child(node: KaNode | undefined, keyword: string): KaNode | undefined {
  return node?.children?.find((c) => c.keyword === keyword);
}

/** The words inside a block, one list entry per statement (e.g. virtual_ipaddress, unicast_peer). */
export function blockLines(node: KaNode | undefined): { words: string[]; line: number; comment?: string }[] {
  return (node?.children ?? []).map((c) => ({ words: [c.keyword, ...c.args], line: c.line, comment: c.comment }));
}
