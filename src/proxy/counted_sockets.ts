// The sockets a frontend or a server is using, and the bytes of those it used: counters that only go up.

import type { Conn } from "../runtime/transport.ts";
import { ItemSet } from "../core/item_set.ts";

/**
 * An ItemSet of sockets that keeps the byte counts of the sockets it lets go of (forget), so
 * bytesRead()/bytesWritten() cover every socket that was ever here. A socket removed with
 * delete() instead is not counted: forget is the way out for a finished connection.
 */
export class CountedSockets extends ItemSet<Conn> {
  #read = 0;
  #written = 0;

  /** Removes socket and adds its bytes to the totals, once; false if it was not here. */
  forget(socket: Conn): boolean {
    if (!this.delete(socket)) return false;
    this.#read += socket.bytesRead;
    this.#written += socket.bytesWritten;
    return true;
  }

  /** Bytes read from the sockets here and from those forgotten. */
  bytesRead(): number {
    return this.values().reduce((n, s) => n + s.bytesRead, this.#read);
  }

  /** Bytes written to the sockets here and to those forgotten. */
  bytesWritten(): number {
    return this.values().reduce((n, s) => n + s.bytesWritten, this.#written);
  }
}
