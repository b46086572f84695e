// AcceptedClient: the socket's addresses on first read, IPv4-mapped addresses unmapped, a plain snapshot.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import type { Socket } from "node:net";
import { AcceptedClient } from "../../src/proxy/accepted_client.ts";

async function pair(host: string): Promise<{ accepted: Socket; client: Socket; close(): void }> {
  const srv = createServer();
  const accepted = new Promise<Socket>((resolve) => srv.once("connection", resolve));
  await new Promise<void>((resolve) => srv.listen(0, host, () => resolve()));
  const port = (srv.address() as { port: number }).port;
  const client = connect({ host: host === "::" ? "127.0.0.1" : host, port });
  await new Promise((resolve) => client.once("connect", resolve));
  const a = await accepted;
  return { accepted: a, client, close: () => (client.destroy(), a.destroy(), srv.close()) };
}

describe("accepted client", () => {
  it("reads both endpoints from the socket", async () => {
    const p = await pair("127.0.0.1");
    try {
      const c = new AcceptedClient(p.accepted, "fe");
      assert.equal(c.frontend, "fe");
      assert.equal(c.srcAddress, "127.0.0.1");
      assert.equal(c.srcPort, p.client.localPort);
      assert.equal(c.dstAddress, "127.0.0.1");
      assert.equal(c.dstPort, p.client.remotePort);
      assert.deepEqual(c.snapshot(), { srcAddress: "127.0.0.1", srcPort: p.client.localPort, dstAddress: "127.0.0.1", dstPort: p.client.remotePort, frontend: "fe" });
    } finally {
      p.close();
    }
  });

  it("unmaps IPv4-mapped addresses of a dual-stack listener, and keeps what it read after close", async () => {
    const p = await pair("::");
    const c = new AcceptedClient(p.accepted, "fe");
    assert.equal(c.srcAddress, "127.0.0.1");
    const port = c.srcPort;
    p.close();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(c.srcAddress, "127.0.0.1");
    assert.equal(c.srcPort, port);
  });
});
