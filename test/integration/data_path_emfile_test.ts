// Out of file descriptors: the fd data path's listener pauses accepting (EMFILE reported to its
// owner), keeps the process running, and accepts the waiting connections once descriptors free up.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./data_path_emfile_child.ts", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("fd data path out of descriptors", () => {
  it("pauses accepting on EMFILE and accepts the rest once descriptors are free", async () => {
    // 48 descriptors: Node itself holds ~25; the rest are for accepted connections.
    const child = spawn("prlimit", ["--nofile=48:48", process.execPath, CHILD], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
    const lines: string[] = [];
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const parts = out.split("\n");
      out = parts.pop()!;
      lines.push(...parts);
    });
    try {
      for (let i = 0; i < 100 && !lines.some((l) => l.startsWith("port ")); i++) await sleep(50);
      const port = Number(lines.find((l) => l.startsWith("port "))!.slice(5));
      const clients: Socket[] = [];
      for (let i = 0; i < 60; i++) {
        const s = connect({ host: "127.0.0.1", port });
        s.on("error", () => {});
        clients.push(s);
      }
      const accepted = () => lines.filter((l) => l.startsWith("accepted ")).length;
      for (let i = 0; i < 60 && !lines.includes("error EMFILE"); i++) await sleep(50);
      assert.ok(lines.includes("error EMFILE"), "the listener reported EMFILE");
      const first = accepted();
      assert.ok(first < 60, `only some were accepted (${first})`);
      // Close connections as they are accepted: the waiting ones get in as descriptors free up.
      let closed = 0;
      for (let i = 0; i < 200 && accepted() < 60; i++) {
        for (; closed < accepted(); closed++) clients[closed].end();
        await sleep(50);
      }
      assert.equal(accepted(), 60, `the waiting connections were accepted once descriptors were free: ${lines.join(" ")}`);
      assert.equal(child.exitCode, null, "still running");
      assert.ok(lines.filter((l) => l === "error EMFILE").length <= 10, "reported once per time it ran out, not every retry");
      for (const s of clients) s.destroy();
    } finally {
      child.kill();
    }
  });
});
