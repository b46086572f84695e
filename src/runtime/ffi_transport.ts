// The fd data path as a Transport: sockets on raw file descriptors through node:ffi (epoll on
// Node's own event loop, plain system calls, no net.Socket), and how global.data_path picks it.

import { TandemError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { fdDial } from "./fd_dial.ts";
import { fdIo } from "./fd_io.ts";
import { fdListen } from "./fd_listen.ts";
import { fdPoller } from "./fd_poller.ts";
import { loadFdSys } from "./fd_sys.ts";
import { netTransport } from "./net_transport.ts";
import type { Transport } from "./transport.ts";

/** global.data_path: the fd data path, node:net, or the first where it runs. */
export type DataPath = "auto" | "ffi" | "net";

/** The fd data path's transport. */
const ffi: Transport = { name: "ffi", listen: fdListen, dial: fdDial };

let ready: true | Error | undefined;

/**
 * The fd data path, set up on first use (system calls resolved, the epoll instance on Node's loop,
 * the shared buffers). Throws Error saying why it cannot run here: Deno, not Linux, node:ffi
 * missing or disabled.
 */
export function ffiTransport(): Transport {
  if (ready === undefined) {
    try {
      const sys = loadFdSys();
      fdIo(sys, fdPoller(sys));
      ready = true;
    } catch (err) {
      ready = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (ready !== true) throw ready;
  return ffi;
}

/**
 * The transport global.data_path asks for. "auto" takes the fd data path where it runs and node:net
 * elsewhere, saying so in the log; "ffi" where it cannot run throws Error E_DATA_PATH.
 */
export function transportFor(dataPath: DataPath, log: Logger): Transport {
  if (dataPath === "net") return netTransport;
  try {
    return ffiTransport();
  } catch (err) {
    const why = (err as Error).message;
    if (dataPath === "ffi") throw new TandemError("E_DATA_PATH", `global.data_path is ffi, but the fd data path cannot run here: ${why}`, { cause: err });
    log.info(`Data path: node:net (the fd data path cannot run here: ${why})`);
    return netTransport;
  }
}
