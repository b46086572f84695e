// The shape of src/: no import cycles, and no import from a lower layer to a higher one
// (core and runtime below config, below the subsystems, below admin/cli/main; the composed
// config, tandem_config.ts, sits just above the subsystems whose sections it lists).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

/** Layer of each top-level folder (or file) of src/; a new subsystem folder goes in layer 2. */
const LAYERS: Record<string, number> = {
  core: 0,
  runtime: 0,
  config: 1,
  proxy: 2,
  vrrp: 2,
  alerts: 2,
  notify: 2,
  admin: 3,
  ui: 3,
  import: 3,
  cli: 4,
  "main.ts": 4,
  "tandem_config.ts": 3,
};
const SUBSYSTEM_LAYER = 2;
/** Lines a source file may have. */
const MAX_LINES = 500;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sources(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) out.push(normalize(join(dirname(file), m[1])));
  for (const m of text.matchAll(/^import\s+"(\.[^"]+)"/gm)) out.push(normalize(join(dirname(file), m[1])));
  return out.filter((p) => p.endsWith(".ts"));
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const top = (f: string) => relative(SRC, f).split("/")[0];
const layer = (f: string) => LAYERS[top(f)] ?? SUBSYSTEM_LAYER;

describe("architecture of src/", () => {
  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 1);
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (!graph.has(d)) continue;
        if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((x) => relative(SRC, x)).join(" → "));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of files) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });

  it("imports only from its own layer or below", () => {
    const upward: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) if (graph.has(d) && layer(d) > layer(f)) upward.push(`${relative(SRC, f)} → ${relative(SRC, d)}`);
    }
    assert.deepEqual(upward, []);
  });

  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const lines = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const long = files.map((f) => [relative(SRC, f), lines(readFileSync(f, "utf8"))] as const).filter(([, n]) => n > MAX_LINES);
    assert.deepEqual(long, []);
  });

  it("keeps node:net out of the proxy's domain code (the transport seam)", () => {
    const users = files.filter((f) => top(f) === "proxy" && /from "node:net"/.test(readFileSync(f, "utf8"))).map((f) => relative(SRC, f));
    assert.deepEqual(users, []);
  });
});
