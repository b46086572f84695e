// The least a Node HTTP/1.1 proxy can do for `npm run bench -- http`: find the end of each request
// head, send it over an idle keep-alive server connection (or a new one), relay the response by its
// Content-Length, close the client after a request that said `Connection: close` (the Connection
// header is not sent on, so server connections stay open). No parsing beyond
// that, no checks or limits: it only serves the bench's GETs and nginx's fixed-size answers.
// Usage: node scripts/bench/node_floor_http.ts PORT BACKEND_PORT...

import { connect, createServer } from "node:net";
import type { Socket } from "node:net";

const [port, ...backends] = process.argv.slice(2).map(Number);
const idle = new Map<number, Socket[]>(backends.map((p) => [p, []]));
let next = 0;

/** Index just past the head's blank line, or -1. */
const headEnd = (b: Buffer): number => {
  const i = b.indexOf("\r\n\r\n");
  return i < 0 ? -1 : i + 4;
};

/** A new server connection; an idle one that closes leaves the pool. */
const open = (backend: number): Socket => {
  const server = connect({ host: "127.0.0.1", port: backend, noDelay: true });
  server.on("error", () => {}); // 'close' follows
  server.on("close", () => {
    const list = idle.get(backend)!;
    const i = list.indexOf(server);
    if (i >= 0) list.splice(i, 1);
  });
  return server;
};

createServer({ noDelay: true }, (client) => {
  let pending = Buffer.alloc(0);
  let busy = false;
  client.on("error", () => client.destroy());
  const serve = (): void => {
    const end = headEnd(pending);
    if (busy || end < 0) return;
    busy = true;
    const text = pending.subarray(0, end).toString("latin1");
    pending = pending.subarray(end);
    const close = /\r\nconnection:\s*close/i.test(text);
    // The server connection stays open whatever the client said (hop-by-hop, as a proxy does).
    const head = Buffer.from(text.replace(/\r\nconnection:[^\r]*/i, ""), "latin1");
    const backend = backends[next++ % backends.length];
    const server = idle.get(backend)!.pop() ?? open(backend);
    let res = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      res = res.length === 0 ? chunk : Buffer.concat([res, chunk]);
      const e = headEnd(res);
      if (e < 0) return;
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(res.subarray(0, e).toString("latin1"))?.[1] ?? 0);
      if (res.length < e + length) return;
      server.off("data", onData);
      server.off("close", onClose);
      idle.get(backend)!.push(server);
      busy = false;
      if (close) {
        // Tell the client too: nginx's answer says keep-alive. (The head ends with a blank line.)
        const resHead = res.subarray(0, e - 2).toString("latin1").replace(/\r\nconnection:[^\r]*/i, "");
        client.end(Buffer.concat([Buffer.from(`${resHead}Connection: close\r\n\r\n`, "latin1"), res.subarray(e)]));
      } else {
        client.write(res);
        serve();
      }
    };
    const onClose = (): void => void client.destroy();
    server.on("data", onData);
    server.on("close", onClose);
    server.write(head);
  };
  client.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    serve();
  });
}).listen(port, "127.0.0.1");
