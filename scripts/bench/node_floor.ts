// The least a Node tcp proxy can do: accept, connect round-robin, pipe both ways. A yardstick for
// `npm run bench -- tcp`: it shows what the runtime's net layer costs without any of tandem.
// Usage: node scripts/bench/node_floor.ts PORT BACKEND_PORT...

import { connect, createServer } from "node:net";

const [port, ...backends] = process.argv.slice(2).map(Number);
let next = 0;

createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
  const server = connect({ host: "127.0.0.1", port: backends[next++ % backends.length], allowHalfOpen: true, noDelay: true });
  client.pipe(server);
  server.pipe(client);
  client.on("error", () => server.destroy());
  server.on("error", () => client.destroy());
  client.on("close", () => server.destroy());
  server.on("close", () => client.destroy());
}).listen(port, "127.0.0.1");
