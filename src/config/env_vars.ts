// Environment variables in config values, as haproxy expands them in double-quoted strings:
// `$NAME`, `${NAME}`, `${NAME-default}`; an unset variable without default expands to "".

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The expansion of text and the variables it used that are not set (and had no default). */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): { value: string; unset: string[] } {
  let value = "";
  const unset: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "$") {
      value += c;
      continue;
    }
    if (text[i + 1] === "{") {
      const end = text.indexOf("}", i + 2);
      const m = end < 0 ? null : /^([A-Za-z_][A-Za-z0-9_]*)(?:-(.*))?$/s.exec(text.slice(i + 2, end));
      if (!m) {
        value += c;
        continue;
      }
      const v = env[m[1]];
      if (v === undefined && m[2] === undefined) unset.push(m[1]);
      value += v ?? m[2] ?? "";
      i = end;
      continue;
    }
    NAME.lastIndex = i + 1;
    const m = NAME.exec(text);
    if (!m) {
      value += c;
      continue;
    }
    const v = env[m[0]];
    if (v === undefined) unset.push(m[0]);
    value += v ?? "";
    i += m[0].length;
  }
  return { value, unset };
}
