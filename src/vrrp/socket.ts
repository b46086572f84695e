// The VRRP transport: one raw IPv4 socket for protocol 112, multicast (224.0.0.18) or unicast peers.

import { TandemError } from "../core/errors.ts";
import { openRawSocket, type RawSocket } from "../runtime/raw_socket.ts";
import { encodePacket, VRRP_GROUP, VRRP_PROTOCOL, type Advert } from "./packet.ts";
import type { Ipv6Fields } from "./packet6.ts";

/** What the instance needs from the network: send an advert, receive packets. */
export interface VrrpTransport {
  /** Sends the advert to the group or to every unicast peer. Errors go to onError. */
  sendAdvert(advert: Advert): void;
  /** Registers the receiver of whole IPv4 packets, or of IPv6 payloads with their header fields. */
  onPacket(fn: (bytes: Uint8Array, ip?: Ipv6Fields) => void): void;
  onError(fn: (err: Error) => void): void;
  close(): void;
}

export interface TransportOptions {
  interface: string;
  /** Source address of our adverts: unicast_src or the interface's primary address. */
  src: string;
  /** Empty = multicast to 224.0.0.18. */
  unicastPeers: string[];
}

const IPPROTO_IP = 0;
const SOL_SOCKET = 1;
const IP_HDRINCL = 3;
const SO_BINDTODEVICE = 25;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;

function inAddr(ip: string): Uint8Array {
  return Uint8Array.from(ip.split(".").map(Number));
}

/**
 * Opens the raw socket (needs root or CAP_NET_RAW): IP_HDRINCL so we write TTL 255 and our
 * source address, bound to the interface, joined to 224.0.0.18 on the interface's address in
 * multicast mode. Throws TandemError E_VRRP_SOCKET with the cause.
 */
export function openRawTransport(opts: TransportOptions): VrrpTransport {
  const where = `on "${opts.interface}" (${opts.src})`;
  let sock: RawSocket;
  try {
    sock = openRawSocket(VRRP_PROTOCOL);
  } catch (err) {
    throw new TandemError("E_VRRP_SOCKET", `Cannot open the VRRP raw socket ${where}: ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  try {
    sock.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, new TextEncoder().encode(opts.interface + "\0"));
    if (opts.unicastPeers.length === 0) {
      // The group must be joined on the interface's address: INADDR_ANY fails with ENODEV without a route.
      const mreq = new Uint8Array(8);
      mreq.set(inAddr(VRRP_GROUP), 0);
      mreq.set(inAddr(opts.src), 4);
      sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq);
      sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, inAddr(opts.src));
      sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, Uint8Array.of(0));
    }
  } catch (err) {
    sock.close();
    throw new TandemError("E_VRRP_SOCKET", `Cannot set up the VRRP socket ${where}: ${(err as Error).message}`, { cause: err });
  }
  const errorHandlers: ((err: Error) => void)[] = [];
  sock.onError((err) => {
    for (const fn of errorHandlers) fn(err);
  });
  const destinations = opts.unicastPeers.length ? opts.unicastPeers : [VRRP_GROUP];
  let ipId = 0;
  return {
    sendAdvert(advert) {
      if (closed) return;
      for (const dst of destinations) {
        ipId = (ipId + 1) & 0xffff;
        // sendto at once: the priority-0 advert of a clean stop leaves before anything else runs.
        try {
          sock.send(encodePacket(advert, opts.src, dst, ipId), dst);
        } catch (err) {
          for (const fn of errorHandlers) fn(new TandemError("E_VRRP_SEND", `Cannot send VRRP advert to ${dst} ${where}: ${(err as Error).message}`, { cause: err }));
        }
      }
    },
    onPacket: (fn) => sock.onMessage(fn),
    onError: (fn) => void errorHandlers.push(fn),
    close() {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}
