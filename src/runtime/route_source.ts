// The address this host would send from toward a destination, as the routing table picks it.

import { createSocket } from "node:dgram";
import { isIP } from "node:net";

/**
 * Asks the kernel which local address routes to `destination`: a UDP socket is connected (no
 * packet leaves) and its local address read. Resolves undefined when there is no route.
 */
export function sourceAddressFor(destination: string): Promise<string | undefined> {
  if (isIP(destination) === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = createSocket(isIP(destination) === 6 ? "udp6" : "udp4");
    const done = (value: string | undefined) => {
      try {
        socket.close();
      } catch { /* already closed */ }
      resolve(value);
    };
    socket.on("error", () => done(undefined));
    try {
      socket.connect(9, destination, () => {
        try {
          const address = socket.address().address;
          done(address === "0.0.0.0" || address === "::" ? undefined : address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}
