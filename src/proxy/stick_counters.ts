// Stick counters of one table entry: request, connection and error rates over a period, and
// concurrent connections (haproxy's stick-table data types http_req_rate, conn_rate,
// http_err_rate, conn_cur).

import type { CounterName } from "./config_types.ts";

/**
 * Events over a sliding period, as haproxy's freq_ctr reads them: the count of the current
 * period plus the previous period's count weighted by the part of it still inside the window
 * (haproxy freq_ctr.c, read_freq_ctr_period). No timer: periods rotate when the counter is used.
 */
export class FreqCounter {
  readonly period: number;
  #start = -1;
  #curr = 0;
  #prev = 0;

  constructor(period: number) {
    this.period = period;
  }

  /** Counts n events at now (monotonic ms). */
  add(now: number, n = 1): void {
    this.#rotate(now);
    this.#curr += n;
  }

  /** Events per period at now. */
  read(now: number): number {
    this.#rotate(now);
    const remain = this.#start + this.period - now;
    return this.#curr + Math.floor((this.#prev * remain) / this.period);
  }

  #rotate(now: number): void {
    if (this.#start < 0) {
      this.#start = now;
      return;
    }
    const elapsed = now - this.#start;
    if (elapsed < this.period) return;
    if (elapsed < 2 * this.period) {
      this.#prev = this.#curr;
      this.#start += this.period;
    } else {
      this.#prev = 0;
      this.#start = now;
    }
    this.#curr = 0;
  }
}

/** Which counters a table keeps: the rate periods in ms, and whether conn_cur is kept. */
export interface CounterSpec {
  httpReqRate?: number;
  connRate?: number;
  httpErrRate?: number;
  connCur: boolean;
}

/** The counters of one key (a client address). */
export class StickCounters {
  readonly httpReq: FreqCounter | undefined;
  readonly conn: FreqCounter | undefined;
  readonly httpErr: FreqCounter | undefined;
  /** Connections (or requests, when tracked per request) in progress; the entry does not expire while above 0. */
  connCur = 0;

  constructor(spec: CounterSpec) {
    this.httpReq = spec.httpReqRate ? new FreqCounter(spec.httpReqRate) : undefined;
    this.conn = spec.connRate ? new FreqCounter(spec.connRate) : undefined;
    this.httpErr = spec.httpErrRate ? new FreqCounter(spec.httpErrRate) : undefined;
  }

  /** A counter's value at now; 0 for one the table does not keep (haproxy does the same). */
  read(name: CounterName, now: number): number {
    switch (name) {
      case "http_req_rate":
        return this.httpReq?.read(now) ?? 0;
      case "conn_rate":
        return this.conn?.read(now) ?? 0;
      case "http_err_rate":
        return this.httpErr?.read(now) ?? 0;
      case "conn_cur":
        return this.connCur;
    }
  }
}
