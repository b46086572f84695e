// Where a request's next connection attempt goes: haproxy's `retries` and `option redispatch`.

import type { Server } from "./server.ts";

/**
 * One plan per request (http) or connection (tcp), shared by every way an attempt can fail
 * (connect refused or timed out, an empty or broken response): up to `retries` more attempts on
 * the same server, the last one on another server when `redispatch` is on.
 */
export class RetryPlan {
  retries: number;
  redispatch: boolean;
  /** Attempts started so far (1 = the first one is under way). */
  attempts = 0;
  /** The server the next attempt must use (a retry), if any. */
  prefer: Server | undefined = undefined;
  /** Servers the next attempt must avoid (redispatched away from). */
  exclude: Set<Server> | undefined = undefined;

  constructor(retries: number, redispatch: boolean) {
    this.retries = retries;
    this.redispatch = redispatch;
  }

  /** An attempt starts. */
  begin(): void {
    this.attempts++;
  }

  /** True while another attempt is allowed after the current one failed. */
  get canRetry(): boolean {
    return this.attempts <= this.retries;
  }

  /** The current attempt on server failed: the next one stays on it, or leaves it on the last retry. */
  failed(server: Server): void {
    if (this.redispatch && this.attempts >= this.retries) {
      (this.exclude ??= new Set()).add(server);
      this.prefer = undefined;
    } else this.prefer = server;
  }

  /** Starts over for another request (with the backend's current settings). */
  reset(retries: number, redispatch: boolean): void {
    this.retries = retries;
    this.redispatch = redispatch;
    this.attempts = 0;
    this.prefer = undefined;
    this.exclude = undefined;
  }
}
