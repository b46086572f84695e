// One access-log line per HTTP request, haproxy-style text or JSON, written through the Logger.

import type { Logger } from "../../core/log.ts";

/** What one request did. Timers are ms; -1 = that phase did not happen (haproxy convention). */
export interface AccessRecord {
  client: string;
  frontend: string;
  backend: string;
  server: string;
  status: number;
  /** Bytes sent to the client (head + body). */
  bytes: number;
  method: string;
  target: string;
  version: string;
  /** Head received (from its first byte). */
  tq: number;
  /** Waited in a queue. */
  tw: number;
  /** Connecting to the server (0 = a pooled connection). */
  tc: number;
  /** Server response head after the request was sent. */
  tr: number;
  /** Total, first byte of the request to the last byte of the response. */
  tt: number;
  /** How it ended: "--" normally, else who ended it and when (see docs). */
  termination: string;
  /** Connection attempts beyond the first. */
  retries: number;
}

const ms = (n: number) => (n < 0 ? -1 : Math.round(n));

/**
 * Writes the record. text: `client frontend backend/server status bytes Tq/Tw/Tc/Tr/Tt
 * termination retries "METHOD target HTTP/1.x"`; json: the record as one JSON object.
 */
export function writeAccess(log: Logger, format: "text" | "json", r: AccessRecord): void {
  if (format === "json") {
    log.info(JSON.stringify({ ...r, tq: ms(r.tq), tw: ms(r.tw), tc: ms(r.tc), tr: ms(r.tr), tt: ms(r.tt) }));
    return;
  }
  log.info(
    `${r.client} ${r.frontend} ${r.backend}/${r.server} ${r.status} ${r.bytes} ${ms(r.tq)}/${ms(r.tw)}/${ms(r.tc)}/${ms(r.tr)}/${ms(r.tt)} ${r.termination} ${r.retries} ${JSON.stringify(`${r.method} ${r.target} ${r.version}`)}`,
  );
}
