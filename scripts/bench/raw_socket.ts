// `npm run bench -- raw-socket`: the VRRP raw-socket paths side by side, on loopback with IP
// protocol 253 (experiments): receive latency (a packet every 2 ms; from sendto to the JavaScript
// handler), a burst (10 packets per millisecond: how many arrive, CPU per packet received, the
// sender's cost included), and the cost of one send.
// Runs on Node (node:ffi + uv_poll) and on Deno (`node_modules/.bin/deno run -A
// scripts/bench/raw_socket.ts`: Deno.dlopen + poll on a blocking thread). Until commit 9dbd364 it
// also measured the raw-socket nan addon that VRRP used before (docs/performance.md).

import { parseArgs } from "node:util";
import { openRawSocket } from "../../src/runtime/raw_socket.ts";

const PROTO = 253;
const LATENCY_PACKETS = 2000;
const BURST_PACKETS = 20_000;

/** What each path offers the bench: receive packets, send one. */
interface Path {
  onMessage(fn: (p: Uint8Array) => void): void;
  send(p: Uint8Array): Promise<void> | void;
  close(): void;
}

function ffiPath(): Path {
  const s = openRawSocket(PROTO);
  return { onMessage: (fn) => s.onMessage(fn), send: (p) => s.send(p, "127.0.0.1"), close: () => s.close() };
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Payload: a tag byte and the send time (performance.now(), float64). */
function stamped(tag: number): Uint8Array {
  const p = new Uint8Array(9);
  p[0] = tag;
  new DataView(p.buffer).setFloat64(1, performance.now(), true);
  return p;
}

async function measure(impl: string): Promise<Record<string, number>> {
  if (impl !== "ffi") throw new Error(`unknown path "${impl}" (only ffi)`);
  const rx = ffiPath();
  const tx = ffiPath();
  const tag = 1 + Math.floor(Math.random() * 250);
  const latencies: number[] = [];
  let burst = 0;
  rx.onMessage((p) => {
    const payload = p.subarray((p[0] & 0x0f) * 4);
    if (payload[0] === tag) latencies.push(performance.now() - new DataView(payload.buffer, payload.byteOffset).getFloat64(1, true));
    else if (payload[0] === (tag ^ 0xff)) burst++;
  });
  try {
    for (let i = 0; i < LATENCY_PACKETS; i++) {
      tx.send(stamped(tag));
      await sleep(2);
    }
    await sleep(50);
    // The burst, from the ffi sender: 10 packets, then a 1 ms timer.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < BURST_PACKETS; i++) {
      tx.send(Uint8Array.of(tag ^ 0xff));
      if (i % 10 === 9) await sleep(1);
    }
    while (burst < BURST_PACKETS && performance.now() - t0 < 10_000) await sleep(1);
    const cpu = process.cpuUsage(cpu0);
    // The send path of the implementation under test: 5000 sends, each awaited.
    const s0 = performance.now();
    for (let i = 0; i < 5000; i++) await rx.send(Uint8Array.of(0));
    const sendUs = ((performance.now() - s0) * 1000) / 5000;
    return {
      received: latencies.length,
      p50: pct(latencies, 0.5),
      p99: pct(latencies, 0.99),
      max: Math.max(...latencies),
      burstReceived: burst,
      cpuUsPerPacket: (cpu.user + cpu.system) / Math.max(1, burst),
      sendUs,
    };
  } finally {
    rx.close();
    tx.close();
  }
}

export async function main(_which: string, argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string", default: "3" }, impl: { type: "string" } } });
  const runtime = "Deno" in globalThis ? "deno" : "node";
  const impls = values.impl ? values.impl.split(",") : ["ffi"];
  process.stdout.write(`raw socket on ${runtime} ${runtime === "deno" ? "" : process.version}: ${LATENCY_PACKETS} packets at 2 ms, a ${BURST_PACKETS}-packet burst, 5000 sends; ${values.runs} runs, alternating\n`);
  process.stdout.write("| runtime | path | run | received | latency p50 ms | p99 ms | max ms | burst received | CPU µs/packet | send µs |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const impl of run % 2 ? impls : [...impls].reverse()) {
      const r = await measure(impl);
      process.stdout.write(`| ${runtime} | ${impl} | ${run} | ${r.received} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(2)} | ${r.burstReceived} | ${r.cpuUsPerPacket.toFixed(1)} | ${r.sendUs.toFixed(1)} |\n`);
    }
  }
}

if (import.meta.main) await main("raw-socket", process.argv.slice(2));
