// Client side of the failover benchmark: opens a TCP connection to ADDRESS:PORT every EVERY ms and
// prints "<wall ms> <answer>" whenever the answering host changes. Run inside the client namespace.
// Usage: node scripts/bench/failover_probe.ts ADDRESS PORT [EVERY_MS]

import { connect } from "node:net";

const [address, port, every = "5"] = process.argv.slice(2);
const MAX_IN_FLIGHT = 64;
/** A probe that gets no answer within this time is abandoned (a SYN lost while the VIP moves). */
const TIMEOUT_MS = 300;

let inFlight = 0;
let last = "";
const wall = () => performance.timeOrigin + performance.now();

function probe(): void {
  if (inFlight >= MAX_IN_FLIGHT) return;
  inFlight++;
  let data = "";
  let done = false;
  const s = connect({ host: address, port: Number(port) });
  const finish = () => {
    if (done) return;
    done = true;
    inFlight--;
    s.destroy();
  };
  s.setTimeout(TIMEOUT_MS, finish);
  s.on("error", finish);
  s.on("close", finish);
  s.on("data", (b) => {
    data += b;
    const nl = data.indexOf("\n");
    if (nl < 0) return;
    const host = data.slice(0, nl);
    if (host !== last) {
      last = host;
      process.stdout.write(`${wall().toFixed(1)} ${host}\n`);
    }
    finish();
  });
}

setInterval(probe, Number(every));
process.on("SIGTERM", () => process.exit(0));
