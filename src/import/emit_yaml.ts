// Writes the imported config as commented YAML (yaml Document API), in the style of exchange.yaml.

import { Document, isMap, isPair, isScalar, isSeq, visit } from "yaml";
import type { Node, Pair, YAMLMap, YAMLSeq } from "yaml";
import type { ImportNote, YamlPath } from "./notes.ts";
import { formatNote } from "./notes.ts";
import { ENV_OPEN, ENV_REF } from "./haproxy_cfg.ts";

/** A comment for the output: above the key/item at path, or at the end of its line. */
export interface YamlComment {
  path: YamlPath;
  text: string;
  place: "before" | "after";
}

/** The translated config before it is written: plain data plus the comments that go with it. */
export interface ImportOutput {
  data: Record<string, unknown>;
  comments: YamlComment[];
  /** Lines for the top of the file. */
  header: string[];
}

/** Creates an empty output. */
export function newOutput(): ImportOutput {
  return { data: {}, comments: [], header: [] };
}

/** Collections always written in block style (sections, lists of rules, name → entry maps). */
const BLOCK_KEYS = new Set([
  "global", "defaults", "userlists", "users", "proxies", "frontends", "backends", "stats", "vrrp", "notify", "alerts",
  "servers", "acls", "use_backend", "http_request", "http_response", "track", "roles", "scripts", "errorfiles",
]);
/** Lists always written in block style, one rule or alert per entry. */
const BLOCK_LISTS = new Set(["use_backend", "http_request", "http_response", "alerts"]);
/** Entries of these maps are written in flow style whatever their length (one server per line). */
const FLOW_CHILDREN = new Set(["servers", "roles"]);
const FLOW_WIDTH = 100;

type Coll = YAMLMap | YAMLSeq;

function isColl(n: unknown): n is Coll {
  return isMap(n) || isSeq(n);
}

/** Rough width of a collection written on one line. */
function flowWidth(n: unknown): number {
  if (isMap(n)) return n.items.reduce((w, p) => w + String((p.key as { value?: unknown })?.value ?? "").length + 2 + flowWidth(p.value) + 2, 4);
  if (isSeq(n)) return n.items.reduce((w: number, i) => w + flowWidth(i) + 2, 4);
  if (isScalar(n)) return String(n.value).length + (typeof n.value === "string" && /[:#{}[\],*&!|>'"%@`]/.test(n.value) ? 2 : 0);
  return 4;
}

/** Collections whose entries are written in block style (one proxy, notifier or alert per block). */
const BLOCK_PARENTS = new Set(["proxies", "frontends", "backends", "notify", "alerts", "userlists"]);

/**
 * Decides block or flow style for n and everything under it, bottom-up: flow for small leaf maps
 * and lists (timeouts, checks, stick, authentication), block for sections and rule lists.
 * key is n's own key (undefined for list items), parentKey the key of the collection holding it.
 * Returns whether n is written in flow style.
 */
function styleNode(n: unknown, key: string | undefined, parentKey: string | undefined): boolean {
  if (!isColl(n)) return true;
  let childrenFlow = true;
  if (isMap(n)) {
    for (const p of n.items) if (!styleNode(p.value, String((p.key as { value?: unknown })?.value), key)) childrenFlow = false;
  } else {
    for (const item of n.items) if (!styleNode(item, undefined, key)) childrenFlow = false;
  }
  const forced = isMap(n) && parentKey !== undefined && FLOW_CHILDREN.has(parentKey);
  const block =
    (key !== undefined && BLOCK_KEYS.has(key) && (isMap(n) || BLOCK_LISTS.has(key))) ||
    (parentKey !== undefined && BLOCK_PARENTS.has(parentKey)) ||
    (key === "bind" && isSeq(n) && n.items.length > 1);
  n.flow = forced || (!block && childrenFlow && flowWidth(n) <= FLOW_WIDTH);
  return n.flow;
}

/**
 * The node at path and the pair or list item holding it. Comments cannot go inside a flow
 * collection, so the walk stops at the outermost flow node; rest is what was left of the path.
 */
function locate(doc: Document, path: YamlPath): { holder?: Pair | Node; node?: unknown; rest: YamlPath } {
  let node: unknown = doc.contents;
  let holder: Pair | Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isColl(node) && node.flow) return { holder, node, rest: path.slice(i) };
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String((p.key as { value?: unknown })?.value) === String(seg));
      if (!pair) return { holder, node, rest: path.slice(i) };
      holder = pair;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      holder = node.items[seg] as Node;
      node = node.items[seg];
    } else return { holder, node, rest: path.slice(i) };
  }
  return { holder, node, rest: [] };
}

function addBefore(holder: Pair | Node, text: string): void {
  const target = (isPair(holder) ? holder.key : holder) as Node;
  target.commentBefore = target.commentBefore ? `${target.commentBefore}\n${text}` : text;
}

function addAfter(target: Node, text: string): void {
  target.comment = target.comment ? `${target.comment};${text}` : text;
}

function attach(doc: Document, path: YamlPath, text: string, place: "before" | "after"): void {
  const { holder, node, rest } = locate(doc, path);
  if (!holder) {
    const lines = text.split("\n").map((l) => ` ${l}`).join("\n");
    doc.commentBefore = doc.commentBefore ? `${doc.commentBefore}\n${lines}` : lines;
    return;
  }
  if (place === "after") {
    const label = rest.length > 0 && typeof rest[rest.length - 1] === "string" ? `${rest[rest.length - 1]}: ` : "";
    const one = ` ${label}${text.replace(/\n/g, " ")}`;
    if (isScalar(node) || (isColl(node) && node.flow)) return addAfter(node as Node, one);
    if (isPair(holder)) return addAfter(holder.key as Node, one);
  }
  addBefore(holder, text.split("\n").map((l) => ` ${l}`).join("\n"));
}

/**
 * Renders out as YAML: header lines, then the sections with one blank line between them, comments
 * attached where the translators asked, and every note (formatted as on stderr) above the place it
 * concerns, or at the top of the file when that place is not in the output.
 */
export function emitYaml(out: ImportOutput, notes: ImportNote[]): string {
  const doc = new Document(out.data);
  const root = doc.contents as YAMLMap | null;
  if (root && isMap(root)) {
    root.items.forEach((p, i) => {
      styleNode(p.value, String((p.key as { value?: unknown }).value), undefined);
      if (i > 0) (p.key as Node).spaceBefore = true;
    });
  }
  const head = out.header.map((l) => ` ${l}`);
  const topNotes = notes.filter((n) => !n.at || n.at.length === 0).map((n) => ` ${formatNote(n)}`);
  doc.commentBefore = [...head, ...(topNotes.length ? ["", ...topNotes] : [])].join("\n") || null;
  quoteVariables(doc);
  for (const c of out.comments) attach(doc, c.path, c.text, c.place);
  for (const n of notes) if (n.at && n.at.length > 0) attach(doc, n.at, formatNote(n), "before");
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/**
 * tandem expands `$NAME` in double-quoted strings only, as haproxy does: an environment reference
 * carried from haproxy.cfg is written as `${NAME}` in double quotes, and any other string holding
 * a `$` (a crypt(3) hash, a regex) in single quotes so it stays literal.
 */
function quoteVariables(doc: Document): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== "string") return;
      if (node.value.includes(ENV_OPEN)) {
        node.value = node.value.replace(ENV_REF, "${$1}");
        node.type = "QUOTE_DOUBLE";
      } else if (node.value.includes("$") && ![...node.value].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127)) node.type = "QUOTE_SINGLE";
    },
  });
}
