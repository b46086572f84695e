// What conditions and rules read besides the request itself: the client's addresses, its stick
// counters, the clock, and the services other layers lend the proxy (the stats page).

import type { Clock } from "../../core/clock.ts";
import type { ClientInfo } from "../accepted_client.ts";
import type { StickCounters } from "../stick_counters.ts";
import type { HttpMessage } from "./message.ts";
import type { LocalResponse } from "./responses.ts";

/**
 * Answers a request on behalf of a higher layer: the admin subsystem registers the stats page
 * here (proxy → admin would be an upward import; admin → proxy through this seam is not).
 * `base` is the path the service was mounted on (a `stats` rule's uri).
 */
export type LocalService = (req: HttpMessage, base: string, options: { refresh?: number }) => LocalResponse;

/** Services by name ("stats"), filled by the layers that offer them. */
export class LocalServices {
  #byName = new Map<string, LocalService>();

  /** Registers (or, with undefined, removes) a service. */
  set(name: string, service: LocalService | undefined): void {
    if (service) this.#byName.set(name, service);
    else this.#byName.delete(name);
  }

  get(name: string): LocalService | undefined {
    return this.#byName.get(name);
  }
}

/** The per-request surroundings a compiled condition or rule may read. */
export interface RequestEnv {
  /** The client's addresses (read from the socket on first use). */
  readonly client: ClientInfo;
  readonly clock: Clock;
  /** The client address's counters in the frontend's table (counters:), when it keeps one. */
  counters?: StickCounters;
  services?: LocalServices;
}
