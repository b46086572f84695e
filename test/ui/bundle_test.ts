import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

// esbuild runs under Node only; Deno runs the rest of the unit tests.
test("the committed src/ui/generated/bundle.ts matches src/ui/", { skip: "Deno" in globalThis ? "esbuild is run under Node" : false }, async () => {
  const { renderUiModule, UI_BUNDLE } = await import("../../scripts/build_ui.ts");
  assert.ok(readFileSync(UI_BUNDLE, "utf8") === (await renderUiModule()), "stale: run node scripts/build_ui.ts and commit src/ui/generated/bundle.ts");
});
