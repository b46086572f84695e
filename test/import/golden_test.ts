// Golden outputs of `tandem import` for every fixture set; UPDATE_GOLDEN=1 rewrites them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importConfigs } from "../../src/import/import_configs.ts";
import { formatNote } from "../../src/import/notes.ts";
import { loadConfigText } from "../../src/tandem_config.ts";
import { configSchema } from "../../src/tandem_config.ts";
import { BACKEND_KEYS, DEFAULTS_KEYS, FRONTEND_KEYS } from "../../src/import/translate_haproxy.ts";
import { FIXTURES, inputsOf, SETS } from "./fixtures.ts";

const update = process.env.UPDATE_GOLDEN === "1";

for (const set of Object.keys(SETS)) {
  test(`import ${set}: output matches ${set}.golden.yaml`, () => {
    const { yaml } = importConfigs(inputsOf(set));
    const golden = join(FIXTURES, `${set}.golden.yaml`);
    if (update || !existsSync(golden)) writeFileSync(golden, yaml);
    assert.equal(yaml, readFileSync(golden, "utf8"), `run with UPDATE_GOLDEN=1 to accept the new output of ${set}`);
  });

  test(`import ${set}: tandem --check accepts the output for both roles`, () => {
    const { yaml } = importConfigs(inputsOf(set));
    for (const role of ["master", "backup"] as const) {
      const r = loadConfigText(yaml, `${set}.yaml`, role);
      // Certificate files named by the imported config exist on the haproxy host, not here.
      const errors = r.diagnostics.filter((d) => d.severity === "error" && !/^Cannot use certificate "\/etc\//.test(d.message));
      assert.deepEqual(errors.map((d) => `${d.line}: ${d.message}`), [], `${set} as ${role}`);
      assert.ok(r.config || errors.length === 0, `${set} as ${role} resolves`);
    }
  });

  test(`import ${set}: every note names its file and line, and is in the output`, () => {
    const { yaml, notes } = importConfigs(inputsOf(set));
    for (const n of notes) {
      if (n.kind === "untranslated") assert.ok(n.line > 0, `${formatNote(n)} has a line`);
      assert.match(formatNote(n), /^[\w.-]+(:\d+)?: (refused|not translated|warning|error|note): /);
      assert.ok(yaml.includes(formatNote(n)), `"${formatNote(n)}" is a comment in the output`);
    }
  });
}

test("the key lists the importer writes match the schema", () => {
  const shape = configSchema.shape as unknown as Record<string, { unwrap(): { shape?: Record<string, unknown>; valueType?: { shape: Record<string, unknown> } } }>;
  const keys = (section: string) => {
    const inner = shape[section].unwrap();
    return Object.keys(inner.valueType?.shape ?? inner.shape ?? {}).sort();
  };
  assert.deepEqual([...FRONTEND_KEYS].sort(), keys("frontends"));
  assert.deepEqual([...BACKEND_KEYS].sort(), keys("backends"));
  assert.deepEqual([...DEFAULTS_KEYS].sort(), keys("defaults"));
});
