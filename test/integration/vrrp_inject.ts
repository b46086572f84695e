// Test helper: sends raw IPv4 packets given as hex arguments (IP_HDRINCL) on eth0, to their own dst.
// Usage: node test/integration/vrrp_inject.ts SRC_IF_ADDR HEX...   (inside `ip netns exec`)

import { openRawSocket } from "../../src/runtime/raw_socket.ts";

const [ifaddr, ...packets] = process.argv.slice(2);
const sock = openRawSocket(112);
sock.setOption(0, 3, 1); // IP_HDRINCL
sock.setOption(0, 32, Uint8Array.from(ifaddr.split(".").map(Number))); // IP_MULTICAST_IF
for (const hex of packets) {
  const b = Uint8Array.from(Buffer.from(hex, "hex"));
  const dst = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
  try {
    sock.send(b, dst);
  } catch (err) {
    console.error(`send failed: ${(err as Error).message}`);
  }
}
sock.close();
