// Environment variables in double-quoted config values, as haproxy expands them.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandEnv } from "../../src/config/env_vars.ts";
import { loadConfigText } from "../../src/tandem_config.ts";

describe("expandEnv", () => {
  const env = { AAA: "one", BBB: "two" };
  it("expands $NAME, ${NAME}, ${NAME-default}; unset ones become empty (haproxy 2.6 does the same)", () => {
    const r = expandEnv("a=[$AAA] b=[${BBB}] c=[${CCC-dflt}] d=[$UNSET_X] e=[${AAA}x] f=[$AAA.y] g=[$] h=[$1]", env);
    assert.equal(r.value, "a=[one] b=[two] c=[dflt] d=[] e=[onex] f=[one.y] g=[$] h=[$1]");
    assert.deepEqual(r.unset, ["UNSET_X"]);
  });
});

describe("the loader", () => {
  const yaml = (value: string) => `frontends:\n  web:\n    bind: 127.0.0.1:8080\n    acls:\n      api: { path_prefix: ${value} }\n    use_backend: [{ backend: app, if: api }]\n    default_backend: app\nbackends:\n  app:\n    servers: { a: { address: 127.0.0.1, port: 9000 } }\n`;
  const prefix = (r: ReturnType<typeof loadConfigText>) => (r.config!.frontends[0].acls.api as { path: string[] }).path[0];

  it("expands double-quoted values only", () => {
    assert.equal(prefix(loadConfigText(yaml('"$COUCH/db"'), "t.yaml", "master", { COUCH: "/couch" })), "/couch/db");
    assert.equal(prefix(loadConfigText(yaml("'$COUCH/db'"), "t.yaml", "master", { COUCH: "/couch" })), "$COUCH/db");
    assert.equal(prefix(loadConfigText(yaml("$COUCH/db"), "t.yaml", "master", { COUCH: "/couch" })), "$COUCH/db");
  });

  it("warns, at the value, about a variable that is not set", () => {
    const r = loadConfigText(yaml('"${COUCH}/db"'), "t.yaml", "master", {});
    assert.ok(r.config);
    assert.equal(prefix(r), "/db");
    const w = r.diagnostics.find((d) => d.severity === "warning");
    assert.match(w!.message, /environment variable COUCH is not set/);
    assert.equal(w!.line, 5);
  });
});
