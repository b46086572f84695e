// The VRRP transport for IPv6 (RFC 5798 §5.1.2): a raw IPv6 socket for next header 112, hop limit
// 255, multicast to ff02::12 from the interface's link-local address, or unicast peers.

import { TandemError } from "../core/errors.ts";
import {
  IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, IPV6_UNICAST_HOPS,
  ipv6Mreq, openRawSocket6, type RawSocket6,
} from "../runtime/raw_socket6.ts";
import { loadLibc } from "../runtime/libc.ts";
import { VRRP_PROTOCOL, VRRP_TTL } from "./packet.ts";
import { encodeAdvert6, VRRP_GROUP6 } from "./packet6.ts";
import type { TransportOptions, VrrpTransport } from "./socket.ts";

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
/** Linux: the offset of the checksum the kernel computes on send and verifies on receive (RFC 3542 §3.1). */
const IPV6_CHECKSUM = 7;
const VRRP_CHECKSUM_OFFSET = 6;

/**
 * Opens the IPv6 transport (needs root or CAP_NET_RAW). `src` is our link-local address in
 * multicast mode (the kernel's choice for ff02::12, RFC 5798 §5.1.2.1), or unicast_src, to which
 * the socket is bound. The kernel computes and verifies the checksum over the pseudo-header of the
 * addresses it really uses. Throws TandemError E_VRRP_SOCKET with the cause.
 */
export function openRawTransport6(opts: TransportOptions & { bindSrc: boolean }): VrrpTransport {
  const where = `on "${opts.interface}" (${opts.src})`;
  let sock: RawSocket6;
  let ifindex: number;
  try {
    ifindex = loadLibc().ifNameToIndex(opts.interface);
    if (ifindex === 0) throw new Error("no such interface");
    sock = openRawSocket6(VRRP_PROTOCOL);
  } catch (err) {
    throw new TandemError("E_VRRP_SOCKET", `Cannot open the VRRP IPv6 raw socket ${where}: ${(err as Error).message}`, { cause: err });
  }
  try {
    sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, new TextEncoder().encode(opts.interface + "\0"));
    sock.setOption(IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET);
    sock.setOption(IPPROTO_IPV6, IPV6_UNICAST_HOPS, VRRP_TTL);
    sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VRRP_TTL);
    if (opts.bindSrc) sock.bind(opts.src, ifindex);
    if (opts.unicastPeers.length === 0) {
      sock.setOption(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, ipv6Mreq(VRRP_GROUP6, ifindex));
      sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
      sock.setOption(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    }
  } catch (err) {
    sock.close();
    throw new TandemError("E_VRRP_SOCKET", `Cannot set up the VRRP IPv6 socket ${where}: ${(err as Error).message}`, { cause: err });
  }
  const errorHandlers: ((err: Error) => void)[] = [];
  sock.onError((err) => {
    for (const fn of errorHandlers) fn(err);
  });
  const destinations = opts.unicastPeers.length ? opts.unicastPeers : [VRRP_GROUP6];
  let closed = false;
  return {
    sendAdvert(advert) {
      if (closed) return;
      for (const dst of destinations) {
        try {
          sock.send(encodeAdvert6(advert, opts.src, dst), dst, ifindex);
        } catch (err) {
          for (const fn of errorHandlers) fn(new TandemError("E_VRRP_SEND", `Cannot send VRRP advert to ${dst} ${where}: ${(err as Error).message}`, { cause: err }));
        }
      }
    },
    onPacket: (fn) => sock.onMessage((payload, info) => fn(payload, { src: info.src, dst: info.dst, hopLimit: info.hopLimit })),
    onError: (fn) => void errorHandlers.push(fn),
    close() {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}
