// The libc seam: the few C calls tandem makes (raw, netlink, packet and unix sockets; a TCP socket
// with options Node's net cannot set), on Node or Deno.

import { loadNodeLibc } from "./libc_node.ts";
import { loadDenoLibc } from "./libc_deno.ts";
import type { Libc } from "./libc_api.ts";

export { ERRNO, errnoName, SyscallError, type FdWatch, type Libc } from "./libc_api.ts";

let cached: Libc | undefined;

/**
 * Opens libc for this runtime: Node 26's node:ffi, or Deno.dlopen. Throws Error when neither is
 * available (a Node without node:ffi), so callers can say what is missing.
 */
export function loadLibc(): Libc {
  cached ??= "Deno" in globalThis ? loadDenoLibc() : loadNodeLibc();
  return cached;
}
