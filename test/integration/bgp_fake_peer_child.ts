// A hostile BGP peer, run in its own namespace: listens on port 179, and on its n-th connection
// plays the n-th scenario named on the command line (the last one repeats). Prints one JSON line
// per thing tandem sends: {"conn":n,"type":...} and, for a NOTIFICATION, its code and subcode.
// Usage: node bgp_fake_peer_child.ts AS TANDEM_AS SCENARIO...

import { createServer } from "node:net";
import { decodeMessage, encodeKeepalive, encodeOpen, frame, MessageReader, ourCapabilities, TYPE } from "../../src/bgp/message.ts";

const [as, tandemAs, ...scenarios] = process.argv.slice(2);
const AS = Number(as);
let count = 0;

/** What each scenario sends once the session is up (or instead of our OPEN). */
const AFTER_UP: Record<string, () => Uint8Array> = {
  // RFC 4271 §6.3: from an external peer the AS_PATH must start with its AS (65099 here).
  bad_update: () => {
    const attrs = [0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfe, 0x4b, 0x40, 3, 4, 192, 0, 2, 1];
    return frame(TYPE.UPDATE, [0, 0, 0, attrs.length, ...attrs, 24, 10, 0, 0]);
  },
  bad_marker: () => {
    const m = encodeKeepalive();
    m[0] = 0;
    return m;
  },
  bad_length: () => {
    const m = encodeKeepalive();
    m[16] = 0x13;
    m[17] = 0x88;
    return m;
  },
};

const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");

const server = createServer((socket) => {
  const conn = ++count;
  const scenario = scenarios[Math.min(conn, scenarios.length) - 1];
  const reader = new MessageReader();
  out({ conn, type: "connected", scenario, from: socket.remoteAddress });
  socket.on("error", () => {});
  socket.on("close", () => out({ conn, type: "closed" }));
  socket.on("data", (chunk) => {
    let messages: Uint8Array[];
    try {
      messages = reader.push(chunk);
    } catch (err) {
      out({ conn, type: "unreadable", error: String(err) });
      return;
    }
    for (const bytes of messages) {
      const type = bytes[18];
      if (type === TYPE.NOTIFICATION) {
        out({ conn, type: "notification", code: bytes[19], subcode: bytes[20] });
        continue;
      }
      if (type === TYPE.OPEN) {
        out({ conn, type: "open" });
        const hold = scenario === "bad_open_hold" ? 1 : 3;
        socket.write(encodeOpen({ localAs: AS, holdTime: hold, routerId: "192.0.2.1", capabilities: ourCapabilities(AS, [4]) }));
        socket.write(encodeKeepalive());
        continue;
      }
      if (type === TYPE.KEEPALIVE) {
        // The first KEEPALIVE from tandem: the session is up, play the scenario.
        if (!socket.readableEnded && AFTER_UP[scenario] && !(socket as unknown as { played?: boolean }).played) {
          (socket as unknown as { played?: boolean }).played = true;
          setTimeout(() => socket.write(AFTER_UP[scenario]()), 100);
        }
        socket.write(encodeKeepalive());
        continue;
      }
      if (type === TYPE.UPDATE) {
        try {
          const u = decodeMessage(bytes, { as4: true, ebgp: true, peerAs: Number(tandemAs) });
          if (u.type === "update") out({ conn, type: "update", nlri: u.nlri.map((p) => `${p.address}/${p.length}`), withdrawn: u.withdrawn.map((p) => `${p.address}/${p.length}`), nextHop: u.attributes.nextHop });
        } catch (err) {
          out({ conn, type: "update", error: String(err) });
        }
      }
    }
  });
});
server.listen(179, "0.0.0.0", () => out({ type: "listening" }));
process.on("SIGTERM", () => process.exit(0));
