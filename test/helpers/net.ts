// Small socket helpers the tests share: a free port, listen, read a server's first line, wait for a port.

import { connect, createServer } from "node:net";
import type { Server } from "node:net";

/** A free TCP port on host (bound then released). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Listens on host:port; rejects when the address cannot be bound. */
export function listen(server: Server, port: number, host = "127.0.0.1"): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
}

/** Connects to host:port (optionally from a local address) and resolves the first line received. */
export function firstLine(port: number, options: { host?: string; from?: string } = {}): Promise<string> {
  const host = options.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress: options.from });
    let data = "";
    s.setEncoding("utf8");
    s.on("data", (d) => {
      data += d;
      if (data.includes("\n")) {
        s.destroy();
        resolve(data.trim());
      }
    });
    s.on("error", reject);
    s.setTimeout(3000, () => reject(new Error(`no greeting from ${host}:${port}${options.from ? ` (from ${options.from})` : ""}`)));
  });
}

/** Waits until something accepts on 127.0.0.1:port; throws after ms. */
export async function accepting(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing accepts on port ${port}`);
}
