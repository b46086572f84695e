// Gratuitous ARP over an AF_PACKET socket (no arping): bursts after takeover and periodic refresh.

import { readFileSync } from "node:fs";
import { TandemError } from "../core/errors.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { loadLibc, type Libc } from "../runtime/libc.ts";

const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const ETH_P_ARP = 0x0806;
const ARPOP_REQUEST = 1;

/** Sends one gratuitous ARP for an address on an interface. */
export interface ArpSender {
  send(dev: string, address: string): void;
  close(): void;
}

/** The MAC of dev, from sysfs. Throws TandemError E_ARP when the device does not exist. */
export function interfaceMac(dev: string): Uint8Array {
  try {
    const text = readFileSync(`/sys/class/net/${dev}/address`, "utf8").trim();
    return Uint8Array.from(text.split(":").map((h) => parseInt(h, 16)));
  } catch (err) {
    throw new TandemError("E_ARP", `Cannot read the MAC address of "${dev}": no such interface`, { cause: err });
  }
}

/**
 * A gratuitous ARP request (RFC 5227 §3 "ARP Announcement": sender and target IP both the VIP),
 * as keepalived sends: the frame payload, 28 bytes, for a SOCK_DGRAM packet socket.
 */
export function garpPayload(mac: Uint8Array, address: string): Uint8Array {
  const ip = address.split(".").map(Number);
  const p = new Uint8Array(28);
  p.set([0, 1, 0x08, 0x00, 6, 4, 0, ARPOP_REQUEST], 0); // Ethernet, IPv4, hlen 6, plen 4, request
  p.set(mac, 8);
  p.set(ip, 14);
  p.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 18);
  p.set(ip, 24);
  return p;
}

/** struct sockaddr_ll for a broadcast on ifindex. */
function broadcastAddr(ifindex: number): Uint8Array {
  const a = new Uint8Array(20);
  const v = new DataView(a.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, ETH_P_ARP, false);
  v.setInt32(4, ifindex, true);
  a[11] = 6;
  a.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 12);
  return a;
}

/** A packet-socket ARP sender (one socket, opened lazily). Errors are thrown as TandemError E_ARP. */
export function packetArpSender(libc: Libc = loadLibc()): ArpSender {
  let fd = -1;
  return {
    send(dev, address) {
      if (fd < 0) {
        fd = libc.socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, ((ETH_P_ARP & 0xff) << 8) | (ETH_P_ARP >> 8));
        if (fd < 0) throw new TandemError("E_ARP", `Cannot open a packet socket: errno ${libc.errno()}`);
      }
      const ifindex = libc.ifNameToIndex(dev);
      if (ifindex === 0) throw new TandemError("E_ARP", `Cannot send gratuitous ARP on "${dev}": no such interface`);
      const n = libc.sendto(fd, garpPayload(interfaceMac(dev), address), 0, broadcastAddr(ifindex));
      if (n < 0) throw new TandemError("E_ARP", `Cannot send gratuitous ARP for ${address} on "${dev}": errno ${libc.errno()}`);
    },
    close() {
      if (fd >= 0) libc.close(fd);
      fd = -1;
    },
  };
}

/** keepalived's garp_master_* knobs, in ms. */
export interface GarpSchedule {
  count: number;
  interval: number;
  /** Second burst after this delay (0 = none), repeatCount packets. */
  repeatDelay: number;
  repeatCount: number;
  /** Periodic refresh while master (one packet per address), if set. */
  refresh?: number;
}

/**
 * Runs the gratuitous-ARP schedule for a set of addresses after a takeover: a burst of `count`
 * spaced by `interval`, a second burst after `repeatDelay`, then a refresh every `refresh`.
 * `stop()` cancels everything (on leaving master). Send errors go to onError, never thrown.
 */
export function startGarp(
  clock: Clock, sender: ArpSender, targets: { dev: string; address: string }[], s: GarpSchedule, onError: (err: unknown) => void,
): { stop(): void } {
  const timers = new Set<TimerHandle>();
  let stopped = false;
  const sendAll = () => {
    for (const t of targets) {
      try {
        sender.send(t.dev, t.address);
      } catch (err) {
        onError(err);
      }
    }
  };
  const later = (ms: number, fn: () => void) => {
    const h = clock.setTimeout(() => {
      timers.delete(h);
      if (!stopped) fn();
    }, ms);
    timers.add(h);
  };
  const burst = (n: number, done?: () => void) => {
    let sent = 0;
    const one = () => {
      sendAll();
      if (++sent < n) later(s.interval, one);
      else done?.();
    };
    if (n > 0) one();
    else done?.();
  };
  const refresh = () => {
    if (!s.refresh) return;
    // Never more than 30 s in one timer; long refresh periods are chained.
    const wait = (left: number) => later(Math.min(left, 30_000), () => (left > 30_000 ? wait(left - 30_000) : (sendAll(), refresh())));
    wait(s.refresh);
  };
  burst(s.count, () => {
    if (s.repeatDelay > 0 && s.repeatCount > 0) later(s.repeatDelay, () => burst(s.repeatCount, refresh));
    else refresh();
  });
  return {
    stop() {
      stopped = true;
      for (const h of timers) h.cancel();
      timers.clear();
    },
  };
}
