// The client of the BGP lab, run inside the client namespace. Each request is a new TCP connection
// to HOST:PORT that reads one line (the answering node's name).
//   count HOST PORT N [CONCURRENCY]  N requests; prints {"counts":{node:n},"errors":[...]} as JSON
//   stream HOST PORT EVERY_MS        a request every EVERY_MS ms until SIGTERM; prints
//                                    "<start wall ms> <end wall ms> <node | ERR code>" per request
//   sources HOST PORT FIRST N K      K requests from each of the N source addresses FIRST, FIRST+1...
//                                    (last octet); prints {"<source>": [answers]} as JSON

import { connect } from "node:net";

const [mode, host, port, arg, concurrency = "8"] = process.argv.slice(2);
const TIMEOUT_MS = 2000;
const wall = () => performance.timeOrigin + performance.now();

/** One request: resolves with the answering node's name, or "ERR <code>". */
function request(localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    let done = false;
    const s = connect({ host, port: Number(port), localAddress });
    const finish = (answer: string) => {
      if (done) return;
      done = true;
      s.destroy();
      resolve(answer);
    };
    s.setTimeout(TIMEOUT_MS, () => finish("ERR timeout"));
    s.on("error", (e: NodeJS.ErrnoException) => finish(`ERR ${e.code ?? e.message}`));
    s.on("close", () => finish(data.includes("\n") ? data.slice(0, data.indexOf("\n")) : `ERR closed after ${JSON.stringify(data)}`));
    s.on("data", (b) => {
      data += b;
      if (data.includes("\n")) finish(data.slice(0, data.indexOf("\n")));
    });
  });
}

if (mode === "count") {
  const counts: Record<string, number> = {};
  const errors: string[] = [];
  let left = Number(arg);
  const worker = async () => {
    while (left-- > 0) {
      const a = await request();
      if (a.startsWith("ERR")) errors.push(a);
      else counts[a] = (counts[a] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  process.stdout.write(JSON.stringify({ counts, errors }) + "\n");
} else if (mode === "stream") {
  setInterval(() => {
    const start = wall();
    void request().then((a) => process.stdout.write(`${start.toFixed(1)} ${wall().toFixed(1)} ${a}\n`));
  }, Number(arg));
  process.on("SIGTERM", () => setTimeout(() => process.exit(0), TIMEOUT_MS + 100));
} else if (mode === "sources") {
  const [first, n, k] = [arg, concurrency, process.argv[7] ?? "3"];
  const base = first.split(".");
  const out: Record<string, string[]> = {};
  await Promise.all(Array.from({ length: Number(n) }, async (_, i) => {
    const src = [...base.slice(0, 3), String(Number(base[3]) + i)].join(".");
    out[src] = [];
    for (let j = 0; j < Number(k); j++) out[src].push(await request(src));
  }));
  process.stdout.write(JSON.stringify(out) + "\n");
} else {
  process.stderr.write("usage: bgp_client.ts count HOST PORT N [CONCURRENCY] | stream HOST PORT EVERY_MS | sources HOST PORT FIRST N K\n");
  process.exit(2);
}
