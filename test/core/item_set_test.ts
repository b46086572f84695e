import { test } from "node:test";
import assert from "node:assert/strict";
import { ItemSet } from "../../src/core/item_set.ts";

test("ItemSet: add, has, delete and size, with the last item moved into a deleted place", () => {
  const set = new ItemSet<{ n: number }>();
  const items = Array.from({ length: 5 }, (_, n) => ({ n }));
  for (const x of items) set.add(x);
  set.add(items[0]); // again: no-op
  assert.equal(set.size, 5);
  assert.equal(set.delete(items[1]), true);
  assert.equal(set.delete(items[1]), false);
  assert.equal(set.has(items[1]), false);
  assert.equal(set.has(items[4]), true);
  assert.deepEqual(set.values().map((x) => x.n).sort(), [0, 2, 3, 4]);
  for (const x of [items[4], items[0], items[3], items[2]]) assert.equal(set.delete(x), true);
  assert.equal(set.size, 0);
  set.add(items[1]); // a deleted item can come back
  assert.deepEqual([...set], [items[1]]);
});

test("ItemSet: iteration walks a snapshot, so items may be deleted on the way", () => {
  const set = new ItemSet<{ n: number }>();
  for (let n = 0; n < 10; n++) set.add({ n });
  const seen: number[] = [];
  for (const x of set) {
    seen.push(x.n);
    set.delete(x);
  }
  assert.equal(seen.length, 10);
  assert.equal(set.size, 0);
});

test("ItemSet: an item in one set cannot be added to another", () => {
  const a = new ItemSet<object>();
  const b = new ItemSet<object>();
  const x = {};
  a.add(x);
  assert.equal(b.has(x), false);
  assert.equal(b.delete(x), false);
  assert.throws(() => b.add(x), /already in another ItemSet/);
  a.delete(x);
  b.add(x);
  assert.equal(b.has(x), true);
});
