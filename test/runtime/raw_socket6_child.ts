// Test helper: `recv DEV` prints "ready", then the first packet for protocol 253 on ff02::12 as JSON; `send DEV` sends one.

import { IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, ipv6Mreq, openRawSocket6 } from "../../src/runtime/raw_socket6.ts";
import { loadLibc } from "../../src/runtime/libc.ts";

const [mode, dev] = process.argv.slice(2);
const ifindex = loadLibc().ifNameToIndex(dev);
const sock = openRawSocket6(253); // RFC 3692 experimental protocol number
sock.setOption(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, ipv6Mreq("ff02::12", ifindex));
sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
if (mode === "send") {
  sock.send(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), "ff02::12", ifindex);
  sock.close();
} else {
  const timer = setTimeout(() => {
    sock.close();
    process.exitCode = 1;
  }, 5000);
  console.log("ready");
  sock.onMessage((payload, info) => {
    console.log(JSON.stringify({ payload: Buffer.from(payload).toString("hex"), ...info }));
    clearTimeout(timer);
    sock.close();
  });
}
