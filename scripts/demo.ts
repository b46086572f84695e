// `npm start`: two demo backends on loopback and tandem balancing between them.

import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = process.argv[2] ?? join(root, "docs/examples/demo.yaml");

const backends = [9001, 9002].map((port, i) =>
  createServer((req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`hello from demo backend app${i + 1} (port ${port}) — you asked for ${req.url}\n`);
  }).listen(port, "127.0.0.1"),
);

const tandem = spawn(process.execPath, [join(root, "src/main.ts"), "--config", config, "--role", "master"], { cwd: root, stdio: "inherit", detached: true });
// detached: its own process group, so Ctrl-C reaches tandem once, through stop() below, not twice.
process.stdout.write(`demo: backends on 127.0.0.1:9001 and :9002; tandem on http://127.0.0.1:8080/
demo: try  for i in 1 2 3 4; do curl -s http://127.0.0.1:8080/; done
demo: stats page http://127.0.0.1:8404/stats  ·  runtime API: dist/tandem ctl --config docs/examples/demo.yaml show stat  (or: npm run tandem -- ctl ...)
demo: Ctrl-C stops everything\n`);

const stop = () => tandem.kill("SIGTERM");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
tandem.on("exit", (code) => {
  for (const b of backends) b.close();
  process.exit(code ?? 0);
});
