// Backend.open: one server connection for a session: a slot, a dial, retries and redispatch.

import type { Socket } from "node:net";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import type { Backend, BackendConnection, CancelSignal, ClientInfo, OpenWaiter, Slot } from "./backend.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import { dial } from "./dial.ts";
import type { DialWaiter } from "./dial.ts";
import { ProxyError } from "./errors.ts";
import type { Server } from "./server.ts";

/** One open(): reserve a slot, dial, retry or redispatch; a CancelSignal for its own queue wait. */
export class Opening implements DialWaiter, CancelSignal {
  aborted = false;
  readonly #backend: Backend;
  readonly #client: ClientInfo;
  readonly #reader: ChunkReader | undefined;
  readonly #waiter: OpenWaiter;
  readonly #clock: Clock;
  readonly #log: Logger;
  #attempt = 0;
  #exclude: Set<Server> | undefined = undefined;
  #prefer: Server | undefined = undefined;
  #slot: Slot | undefined = undefined;
  #socket: Socket | undefined = undefined;
  #started = 0;
  #onAbort: (() => void) | undefined = undefined;

  constructor(backend: Backend, client: ClientInfo, reader: ChunkReader | undefined, waiter: OpenWaiter, clock: Clock, log: Logger) {
    this.#backend = backend;
    this.#client = client;
    this.#reader = reader;
    this.#waiter = waiter;
    this.#clock = clock;
    this.#log = log;
  }

  next(): void {
    this.#attempt++;
    const r = this.#backend.slotFor(this.#client, { exclude: this.#exclude, prefer: this.#prefer, signal: this });
    // A free slot is taken at once; dial() never calls back synchronously, so the waiter is not
    // told before open() returns.
    if (r instanceof Promise) r.then((slot) => this.#slotted(slot), (err: ProxyError) => this.#waiter.opened(err, undefined));
    else this.#slotted(r);
  }

  cancel(): void {
    if (this.aborted) return;
    this.aborted = true;
    const onAbort = this.#onAbort;
    this.#onAbort = undefined;
    onAbort?.();
    this.#socket?.destroy();
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#onAbort = listener;
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.#onAbort === listener) this.#onAbort = undefined;
  }

  #slotted(slot: Slot): void {
    if (this.aborted) {
      slot.release();
      this.#waiter.opened(new ProxyError("E_ABORTED", "Client aborted"), undefined);
      return;
    }
    this.#slot = slot;
    this.#started = this.#clock.now();
    const server = slot.server;
    this.#socket = dial(server, server.config.port ?? this.#client.dstPort, this.#client, this.#backend.config.timeouts.connect, this.#reader, this);
  }

  dialed(err: ProxyError | undefined, socket: Socket): void {
    const slot = this.#slot!;
    this.#slot = undefined;
    this.#socket = undefined;
    if (!err) {
      this.#backend.stickStore(this.#client, slot.server);
      slot.server.sockets.add(socket);
      this.#waiter.opened(undefined, new Connection(slot, socket, this.#attempt, this.#clock.now() - this.#started));
      return;
    }
    slot.release();
    const code = err.code;
    if (code === "E_CONNECT" || code === "E_CONNECT_TIMEOUT") slot.server.connectErrors++;
    const config = this.#backend.config;
    if (code === "E_ABORTED" || this.aborted || this.#attempt > config.retries) {
      this.#waiter.opened(err, undefined);
      return;
    }
    this.#log.debug("connect failed, retrying", { backend: this.#backend.name, server: slot.server.name, attempt: this.#attempt, reason: err.message });
    if (config.redispatch && this.#attempt === config.retries) {
      (this.#exclude ??= new Set()).add(slot.server);
      this.#prefer = undefined;
    } else this.#prefer = slot.server;
    this.next();
  }
}

/** A connected server socket with its slot; release() settles the server's byte counters once. */
class Connection implements BackendConnection {
  readonly server: Server;
  readonly queued: number;
  readonly socket: Socket;
  readonly attempts: number;
  readonly connectTime: number;
  #slot: Slot | undefined;

  constructor(slot: Slot, socket: Socket, attempts: number, connectTime: number) {
    this.server = slot.server;
    this.queued = slot.queued;
    this.#slot = slot;
    this.socket = socket;
    this.attempts = attempts;
    this.connectTime = connectTime;
  }

  release(): void {
    const slot = this.#slot;
    if (!slot) return;
    this.#slot = undefined;
    this.server.sockets.forget(this.socket);
    slot.release();
  }
}
