// tcp mode sessions: half-close, idle timeouts, PROXY protocol both ways, maxconn admission.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { encodeProxyHeader, parseProxyHeader } from "../../src/proxy/proxy_protocol.ts";
import { backend, config, freePort, frontend, namedServer, openClient, server, sleep, startProxy, tracker, waitFor } from "./fixtures.ts";

const { track, cleanAll } = tracker();
after(cleanAll);
const T = (over: Partial<{ connect: number; client: number; server: number; queue: number }>) => ({ connect: 500, client: 5000, server: 5000, queue: 2000, httpRequest: 1, httpKeepAlive: 1, ...over });

describe("tcp session", () => {
  it("half-close: the client's FIN reaches the server and the reply still comes back", async () => {
    // The server answers only after the client has finished sending (like `nc -q`).
    const s = await track(namedServer("hc", 0, "127.0.0.1", (sock) => {
      let got = "";
      sock.on("data", (d) => (got += d));
      sock.on("end", () => sock.end(`got ${got.length} bytes`));
    }));
    const port = await freePort();
    await track(startProxy(config([frontend("h", [`127.0.0.1:${port}`])], [backend("h", [server("hc", s.port)])])));
    const c = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const payload = "x".repeat(200_000);
    c.end(payload);
    let reply = "";
    c.on("data", (d) => (reply += d));
    await new Promise((r) => c.on("end", r));
    assert.equal(reply, "got 200000 bytes");
    c.destroy();
  });

  it("timeout client closes an idle connection; activity keeps it open", async () => {
    const s = await track(namedServer("echo"));
    const port = await freePort();
    await track(startProxy(config([frontend("tc", [`127.0.0.1:${port}`], { timeouts: T({ client: 150 }) })], [backend("tc", [server("echo", s.port)])])));
    const c = await openClient(port);
    assert.equal(await c.line(), "echo");
    for (let i = 0; i < 4; i++) {
      await sleep(80);
      c.socket.write(`ping${i}\n`);
      assert.equal(await c.line(), `ping${i}`);
    }
    const start = Date.now();
    await c.closed;
    const idle = Date.now() - start;
    assert.ok(idle >= 100 && idle < 800, `closed after ${idle}ms idle`);
  });

  it("timeout server closes when the server stays silent", async () => {
    const s = await track(namedServer("mute", 0, "127.0.0.1", () => {}));
    const port = await freePort();
    await track(startProxy(config([frontend("ts", [`127.0.0.1:${port}`])], [backend("ts", [server("mute", s.port)], { timeouts: T({ server: 150 }) })])));
    const start = Date.now();
    const c = await openClient(port);
    await c.closed;
    const t = Date.now() - start;
    assert.ok(t >= 100 && t < 800, `closed after ${t}ms`);
  });

  it("send_proxy v1 and v2 tell the server the real client", async () => {
    for (const v of ["v1", "v2"] as const) {
      let header: Buffer | undefined;
      const s = await track(namedServer("pp", 0, "127.0.0.1", (sock) => {
        sock.once("data", (d: Buffer) => {
          header = d;
          sock.end();
        });
      }));
      const port = await freePort();
      const h = await track(startProxy(config([frontend("pp", [`127.0.0.1:${port}`])], [backend("pp", [server("pp", s.port, { sendProxy: v })])])));
      const c = await openClient(port, "127.0.0.1", "127.0.0.9");
      c.socket.write("hello");
      await c.closed;
      const parsed = parseProxyHeader(header!);
      assert.ok(parsed.done);
      assert.equal(parsed.addresses?.srcAddress, "127.0.0.9");
      assert.equal(parsed.addresses?.dstPort, port);
      assert.equal(header!.subarray(parsed.consumed).toString(), "hello");
      await h.stop();
    }
  });

  it("accept_proxy takes the client address from the header; a bad header closes", async () => {
    let header: Buffer | undefined;
    const s = await track(namedServer("ap", 0, "127.0.0.1", (sock) => {
      sock.once("data", (d: Buffer) => {
        header = d;
        sock.end();
      });
    }));
    const port = await freePort();
    const fe = frontend("ap", [`127.0.0.1:${port}`]);
    fe.binds[0].acceptProxy = true;
    await track(startProxy(config([fe], [backend("ap", [server("ap", s.port, { sendProxy: "v1" })])])));
    const c = await openClient(port);
    c.socket.write(Buffer.concat([encodeProxyHeader("v2", { srcAddress: "192.0.2.7", srcPort: 5555, dstAddress: "198.51.100.1", dstPort: 443 }), Buffer.from("data")]));
    await c.closed;
    assert.equal(header!.toString(), "PROXY TCP4 192.0.2.7 198.51.100.1 5555 443\r\ndata");
    const bad = await openClient(port);
    bad.socket.write("GET / HTTP/1.1\r\n\r\n");
    await bad.closed;
  });

  it("frontend maxconn holds extra connections until a slot frees, never drops them", async () => {
    const s = await track(namedServer("one"));
    const port = await freePort();
    const h = await track(startProxy(config([frontend("mc", [`127.0.0.1:${port}`], { maxconn: 1 })], [backend("mc", [server("one", s.port)])])));
    const a = await openClient(port);
    assert.equal(await a.line(), "one");
    const b = await openClient(port);
    const bLine = b.line();
    await sleep(80);
    assert.equal(s.accepted, 1);
    const st = h.ctx.services.proxy!.status() as { frontends: { held: number }[] };
    assert.equal(st.frontends[0].held, 1);
    a.socket.destroy();
    assert.equal(await bLine, "one");
    b.socket.destroy();
  });

  it("global maxconn applies across frontends", async () => {
    const s = await track(namedServer("g"));
    const p1 = await freePort();
    const p2 = await freePort();
    await track(startProxy(config([frontend("g1", [`127.0.0.1:${p1}`], { defaultBackend: "g" }), frontend("g2", [`127.0.0.1:${p2}`], { defaultBackend: "g" })], [backend("g", [server("g", s.port)])], 1)));
    const a = await openClient(p1);
    await a.line();
    const b = await openClient(p2);
    const bLine = b.line();
    await sleep(60);
    assert.equal(s.accepted, 1);
    a.socket.destroy();
    assert.equal(await bLine, "g");
    b.socket.destroy();
  });

  it("abort_on_close drops a queued client that sends FIN; without it the FIN is passed on", async () => {
    for (const abortOnClose of [true, false]) {
      const got: string[] = [];
      const s = await track(namedServer("ab", 0, "127.0.0.1", (sock: Socket) => {
        let data = "";
        sock.on("data", (d) => (data += d));
        sock.on("end", () => {
          got.push(data);
          sock.end();
        });
      }));
      const port = await freePort();
      await track(startProxy(config([frontend("ab", [`127.0.0.1:${port}`])], [backend("ab", [server("ab", s.port, { maxconn: 1 })], { abortOnClose })])));
      const holder = await openClient(port);
      await waitFor(() => s.accepted === 1, 1000, "first connection");
      const q = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      q.on("error", () => {});
      q.end("queued-data");
      await sleep(80);
      holder.socket.end();
      await sleep(150);
      assert.deepEqual(got.sort(), abortOnClose ? [""] : ["", "queued-data"]);
      q.destroy();
    }
  });
});
