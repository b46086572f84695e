// Binding a VIP this host does not hold yet: Linux's ip_nonlocal_bind sysctl, set once when root.

import { readFileSync, writeFileSync } from "node:fs";
import type { Logger } from "../core/log.ts";

/**
 * Why a sysctl: the backup host must listen on the VIP before keepalived/VRRP moves it here, and
 * Linux refuses bind() to an address not on any interface (EADDRNOTAVAIL) unless the socket has
 * IP_FREEBIND or the namespace has net.ipv4.ip_nonlocal_bind=1 (net.ipv6.ip_nonlocal_bind for
 * IPv6, which also covers addresses still in DAD). Node's net module cannot set IP_FREEBIND on a
 * listening socket, so tandem sets the per-network-namespace sysctl — what the haproxy+keepalived
 * guides tell admins to do by hand — and says so in the log. Without root the caller falls back
 * to retrying the bind until the address arrives.
 */
export function enableNonlocalBind(family: 4 | 6, log: Logger): boolean {
  const path = `/proc/sys/net/ipv${family}/ip_nonlocal_bind`;
  try {
    if (readFileSync(path, "latin1").trim() === "1") return true;
    writeFileSync(path, "1\n");
    log.warn(`Set net.ipv${family}.ip_nonlocal_bind=1 so listeners can bind addresses this host does not hold yet (the VIP on the backup)`, {
      sysctl: `net.ipv${family}.ip_nonlocal_bind`,
    });
    return true;
  } catch (err) {
    log.warn(`Cannot set net.ipv${family}.ip_nonlocal_bind=1: ${(err as Error).message}`);
    return false;
  }
}
