// A tiny element builder: text always goes through textContent, so nothing from the server is parsed as HTML.
/// <reference lib="dom" />

type Child = Node | string | number | undefined | false;

/** h("td", { class: "num", "data-label": "Cur" }, 3) → <td class="num" data-label="Cur">3</td>. */
export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) {
    if (c === undefined || c === false) continue;
    el.append(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A table with a header row; rows are arrays of cells, each labelled for the narrow (card) layout. */
export function table(cls: string, headers: string[], rows: { attrs?: Record<string, string>; cells: Child[] }[]): HTMLElement {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: cls },
      h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", {}, t)))),
      h("tbody", {}, ...rows.map((r) => h("tr", r.attrs ?? {}, ...r.cells.map((c, i) => (c instanceof HTMLElement && c.tagName === "TD" ? c : h("td", { "data-label": headers[i] }, c)))))),
    ),
  );
}
