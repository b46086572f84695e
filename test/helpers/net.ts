// Small socket helpers the integration tests share: listen, and read a server's first line.

import { connect } from "node:net";
import type { Server } from "node:net";

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
