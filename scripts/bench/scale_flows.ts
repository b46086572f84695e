// Client side of `npm run bench -- scale`'s flow measurement: holds N keep-alive HTTP connections
// to HOST:PORT and, on each "probe LABEL" line on stdin, sends one request on every connection
// still open, on each SIGUSR2. A connection whose packets ECMP now sends to another node gets a
// reset there. Prints JSON lines: {"ready":..,"byNode":{..}} once open, then per probe
// {"probe":n,"ok":..,"broken":..,"brokenByNode":{..}}; exits on SIGTERM.
// Usage: node scripts/bench/scale_flows.ts HOST PORT N

import { connect, type Socket } from "node:net";

const [host, port, n] = process.argv.slice(2);

interface Flow {
  socket: Socket;
  node: string;
  open: boolean;
  buf: string;
  /** Reported broken by a probe already. */
  counted?: boolean;
  waiting?: (answer: string | undefined) => void;
}

/** One request on a flow: the node named in the body, or undefined when the connection broke. */
function ask(f: Flow): Promise<string | undefined> {
  if (!f.open) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), 3000);
    const done = (a: string | undefined) => {
      clearTimeout(timer);
      f.waiting = undefined;
      if (a === undefined) {
        f.open = false;
        f.socket.destroy();
      }
      resolve(a);
    };
    f.waiting = done;
    f.socket.write(`GET / HTTP/1.1\r\nHost: bench\r\n\r\n`);
  });
}

function open(): Promise<Flow> {
  return new Promise((resolve) => {
    const f: Flow = { socket: connect({ host, port: Number(port) }), node: "", open: true, buf: "" };
    f.socket.on("error", () => {});
    f.socket.on("close", () => {
      f.open = false;
      f.waiting?.(undefined);
    });
    f.socket.on("data", (d) => {
      f.buf += d;
      // nginx answers with Content-Length; the body is the node's name and a newline.
      const m = /\r\n\r\n([^\n]*)\n/.exec(f.buf);
      if (m) {
        f.buf = "";
        f.waiting?.(m[1]);
      }
    });
    f.socket.on("connect", async () => {
      f.node = (await ask(f)) ?? "";
      resolve(f);
    });
  });
}

const flows: Flow[] = [];
for (let i = 0; i < Number(n); i += 50) flows.push(...(await Promise.all(Array.from({ length: Math.min(50, Number(n) - i) }, open))));
const count = (fs: Flow[]) => fs.reduce<Record<string, number>>((m, f) => ((m[f.node || "failed"] = (m[f.node || "failed"] ?? 0) + 1), m), {});
process.stdout.write(JSON.stringify({ ready: flows.length, byNode: count(flows) }) + "\n");

let probes = 0;
process.on("SIGUSR2", async () => {
  const probe = ++probes;
  // Every flow that had an answer and was not found broken by an earlier probe; one closed since
  // (its node died and the kernel reset it) counts as broken too.
  const live = flows.filter((f) => f.node && !f.counted);
  const answers = await Promise.all(live.map(ask));
  live.forEach((f, i) => (f.counted = answers[i] === undefined));
  const broken = live.filter((_, i) => answers[i] === undefined);
  process.stdout.write(JSON.stringify({ probe, probed: live.length, ok: live.length - broken.length, broken: broken.length, byNode: count(live), brokenByNode: count(broken) }) + "\n");
});
process.on("SIGTERM", () => {
  for (const f of flows) f.socket.destroy();
  process.exit(0);
});
