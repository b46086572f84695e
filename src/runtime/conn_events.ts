// The events of a connection (transport.ts ConnEvent) with EventEmitter's semantics for on, once,
// off and listenerCount, for the fixed set of events a Conn has: one field each, no map.

import type { ConnEvent } from "./transport.ts";

// Listeners of different events take different arguments (transport.ts types each one).
// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;
type Wrapped = Listener & { listener?: Listener };
type Slot = Wrapped | Wrapped[] | undefined;

function added(s: Slot, listener: Wrapped): Slot {
  // Arrays are replaced, never changed: an emit in progress keeps iterating the one it started with.
  return s === undefined ? listener : typeof s === "function" ? [s, listener] : s.concat([listener]);
}

/** s without the last listener that is (or wraps, for once) listener. */
function removed(s: Slot, listener: Listener): Slot {
  if (s === undefined) return s;
  if (typeof s === "function") return s === listener || s.listener === listener ? undefined : s;
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] !== listener && s[i].listener !== listener) continue;
    const rest = s.slice(0, i).concat(s.slice(i + 1));
    return rest.length === 1 ? rest[0] : rest;
  }
  return s;
}

function count(s: Slot): number {
  return s === undefined ? 0 : typeof s === "function" ? 1 : s.length;
}

/**
 * on/once/off/listenerCount/emit as node:events does them (listeners called in the order added,
 * a listener removed during an emit still called by it, off removing the last match). One
 * difference: an 'error' nobody listens to is dropped rather than thrown — the data path's errors
 * come from the network, and a hostile peer must not be able to end the process.
 */
export class ConnEvents {
  // One field per event, read and written through a switch: a keyed property access with a
  // variable name would be a megamorphic lookup on every emit.
  #data: Slot = undefined;
  #end: Slot = undefined;
  #close: Slot = undefined;
  #error: Slot = undefined;
  #timeout: Slot = undefined;
  #drain: Slot = undefined;
  #connect: Slot = undefined;

  #get(event: ConnEvent): Slot {
    switch (event) {
      case "data": return this.#data;
      case "end": return this.#end;
      case "close": return this.#close;
      case "error": return this.#error;
      case "timeout": return this.#timeout;
      case "drain": return this.#drain;
      case "connect": return this.#connect;
    }
  }

  #set(event: ConnEvent, s: Slot): void {
    switch (event) {
      case "data": this.#data = s; break;
      case "end": this.#end = s; break;
      case "close": this.#close = s; break;
      case "error": this.#error = s; break;
      case "timeout": this.#timeout = s; break;
      case "drain": this.#drain = s; break;
      case "connect": this.#connect = s; break;
    }
    this.listenersChanged(event);
  }

  on(event: ConnEvent, listener: Listener): this {
    this.#set(event, added(this.#get(event), listener));
    return this;
  }

  once(event: ConnEvent, listener: Listener): this {
    // emit calls listeners with the connection as `this`.
    const wrapped: Wrapped = function (this: ConnEvents, arg?: unknown) {
      this.off(event, wrapped);
      listener.call(this, arg);
    };
    wrapped.listener = listener;
    return this.on(event, wrapped);
  }

  off(event: ConnEvent, listener: Listener): this {
    const s = this.#get(event);
    const next = removed(s, listener);
    if (next !== s) this.#set(event, next);
    return this;
  }

  listenerCount(event: ConnEvent): number {
    return count(this.#get(event));
  }

  /** Calls the listeners of event with arg; false when there were none. */
  protected emit(event: ConnEvent, arg?: unknown): boolean {
    const s = this.#get(event);
    if (s === undefined) return false;
    if (typeof s === "function") s.call(this, arg);
    else for (let i = 0; i < s.length; i++) s[i].call(this, arg);
    return true;
  }

  /** A listener was added or removed (the data path starts reading for 'data'). */
  protected listenersChanged(_event: ConnEvent): void {}
}
