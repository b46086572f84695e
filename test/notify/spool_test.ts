// The spool directory: atomic writes, read back oldest first, leftovers and corrupt files handled.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { newSpoolId, Spool, type SpoolEntry } from "../../src/notify/spool.ts";

function entry(id: string): SpoolEntry {
  return { version: 1, id, notifier: "email", createdAt: 1, message: { subject: "警告", text: "t", source: "r" }, attempts: 0, nextAttemptAt: 1, recipients: { a: "pending" } };
}

describe("spool", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-spool-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ids sort by creation time", () => {
    const a = newSpoolId(1_700_000_000_000);
    const b = newSpoolId(1_700_000_000_001);
    assert.ok(a < b);
    assert.match(a, /^[0-9a-z]+-[0-9a-f]{12}$/);
  });

  it("writes, overwrites, reads back and removes entries", async () => {
    const spool = new Spool(join(dir, "s1"));
    await spool.init();
    const id1 = newSpoolId(1000);
    const id2 = newSpoolId(2000);
    await spool.write(entry(id2));
    await spool.write(entry(id1));
    await spool.write({ ...entry(id1), attempts: 3 });
    const { entries, bad } = await spool.loadAll();
    assert.deepEqual(bad, []);
    assert.deepEqual(entries.map((e) => e.id), [id1, id2]);
    assert.equal(entries[0].attempts, 3);
    assert.equal(entries[0].message.subject, "警告");
    assert.deepEqual(readdirSync(join(dir, "s1")).filter((f) => f.endsWith(".tmp")), []);
    await spool.remove(id1);
    await spool.remove(id1);
    assert.deepEqual((await spool.loadAll()).entries.map((e) => e.id), [id2]);
  });

  it("deletes half-written temp files and sets corrupt entries aside", async () => {
    const spool = new Spool(join(dir, "s2"));
    await spool.init();
    writeFileSync(join(dir, "s2", ".abc.1234.tmp"), "{partial");
    const badName = `${newSpoolId(5)}.json`;
    writeFileSync(join(dir, "s2", badName), "{not json");
    const { entries, bad } = await spool.loadAll();
    assert.deepEqual(entries, []);
    assert.equal(bad.length, 1);
    assert.ok(existsSync(join(dir, "s2", `${badName}.bad`)));
    assert.ok(!existsSync(join(dir, "s2", ".abc.1234.tmp")));
  });

  it("reports an uncreatable directory as E_SPOOL", async () => {
    writeFileSync(join(dir, "file"), "");
    await assert.rejects(new Spool(join(dir, "file", "sub")).init(), { code: "E_SPOOL" });
  });
});
