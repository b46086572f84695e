// Test helper: sends raw IPv4 packets given as hex arguments (IP_HDRINCL) on eth0, to their own dst.
// Usage: node test/integration/vrrp_inject.ts SRC_IF_ADDR HEX...   (inside `ip netns exec`)

import { loadRawSocket } from "../../src/runtime/raw_socket.ts";

const [ifaddr, ...packets] = process.argv.slice(2);
const raw = loadRawSocket();
const sock = raw.createSocket({ protocol: 112 });
sock.setOption(0, 3, 1); // IP_HDRINCL
const a = Buffer.from(ifaddr.split(".").map(Number));
sock.setOption(0, 32, a, 4); // IP_MULTICAST_IF
let left = packets.length;
for (const hex of packets) {
  const b = Buffer.from(hex, "hex");
  const dst = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
  sock.send(b, 0, b.length, dst, null, (err) => {
    if (err) console.error(`send failed: ${err.message}`);
    if (--left === 0) sock.close();
  });
}
