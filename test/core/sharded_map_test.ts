// ShardedMap: the Map operations a stick table uses, over keys spread across shards.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ShardedMap } from "../../src/core/sharded_map.ts";

test("get, set, has, delete, size and clear behave as a Map's, for short and long keys", () => {
  const m = new ShardedMap<number>();
  const keys = ["", "a", "ab", "10.0.0.1", "2001:db8::1", ...Array.from({ length: 5000 }, (_, i) => `192.168.${i >> 8}.${i & 255}`)];
  keys.forEach((k, i) => m.set(k, i));
  assert.equal(m.size, keys.length);
  m.set("10.0.0.1", -1);
  assert.equal(m.size, keys.length, "overwriting does not count twice");
  assert.equal(m.get("10.0.0.1"), -1);
  assert.equal(m.get(""), 0);
  assert.equal(m.has("ab"), true);
  assert.equal(m.delete("ab"), true);
  assert.equal(m.delete("ab"), false);
  assert.equal(m.has("ab"), false);
  assert.equal(m.size, keys.length - 1);
  m.clear();
  assert.equal(m.size, 0);
  assert.equal(m.get("a"), undefined);
});
