// HTTP-01 tokens: published in memory and under a directory that other proxy processes read.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ChallengeStore } from "../../src/acme/challenges.ts";
import { tempDir } from "../helpers/certs.ts";

describe("ChallengeStore", () => {
  it("answers published tokens only, under the well-known path", () => {
    const s = new ChallengeStore();
    s.add("tok_1-A", "tok_1-A.thumb");
    assert.equal(s.answer("/.well-known/acme-challenge/tok_1-A"), "tok_1-A.thumb");
    assert.equal(s.answer("/.well-known/acme-challenge/other"), undefined);
    assert.equal(s.answer("/.well-known/acme-challenge/../etc/passwd"), undefined);
    assert.equal(s.answer("/tok_1-A"), undefined);
    assert.throws(() => s.add("../x", "y"), /not an ACME token/);
    s.remove("tok_1-A");
    assert.equal(s.answer("/.well-known/acme-challenge/tok_1-A"), undefined);
  });

  it("a store that only shares the directory (another process) answers from the files", () => {
    const dir = join(tempDir(), "http-01");
    const writer = new ChallengeStore();
    writer.useDirectory(dir);
    const reader = new ChallengeStore();
    reader.useDirectory(dir);
    writer.add("t0k", "t0k.key");
    assert.equal(reader.answer("/.well-known/acme-challenge/t0k"), "t0k.key");
    writer.remove("t0k");
    assert.equal(reader.answer("/.well-known/acme-challenge/t0k"), undefined);
  });
});
