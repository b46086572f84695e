// The backup host binds the VIP before it holds it: ip_nonlocal_bind in a fresh network namespace.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";

const NS = `tdm-nl-${process.pid}`;
const VIP = "192.0.2.10";
const isRoot = process.getuid?.() === 0;

describe("non-local bind (network namespace)", { skip: !isRoot && "needs root for network namespaces" }, () => {
  before(() => {
    execFileSync("ip", ["netns", "add", NS]);
    execFileSync("ip", ["-n", NS, "link", "set", "lo", "up"]);
  });
  after(() => {
    execFileSync("ip", ["netns", "del", NS]);
  });

  it("binds a VIP the host does not hold, and serves it once the address arrives", async () => {
    const child = spawn("ip", ["netns", "exec", NS, process.execPath, new URL("./nonlocal_bind_child.ts", import.meta.url).pathname, VIP, "8080"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => JSON.parse((await lines.next()).value as string);
    try {
      const first = await next();
      assert.deepEqual(first, { before: "0", after: "1", bound: true });
      execFileSync("ip", ["-n", NS, "addr", "add", `${VIP}/24`, "dev", "lo"]);
      child.stdin.write("go\n");
      assert.deepEqual(await next(), { answer: "behind-vip" });
    } finally {
      child.kill();
    }
  });
});
