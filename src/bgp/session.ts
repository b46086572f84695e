// One BGP session to one peer: runs the pure state machine (fsm.ts) against a clock and a TCP
// connection, encoding what it asks to send and decoding what the peer sends.

import type { Clock, TimerHandle } from "../core/clock.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import { describeError } from "../core/errors.ts";
import type { TcpConnection, TcpConnector } from "../runtime/tcp_connect.ts";
import { initialState, nextDeadline, step } from "./fsm.ts";
import type { OutMessage, SessionAction, SessionConfig, SessionEvent, SessionState, WantedRoute } from "./fsm.ts";
import { decodeMessage, encodeKeepalive, encodeNotification, encodeOpen, frame, MessageReader, TYPE, TYPE_NAMES } from "./message.ts";
import { BgpMessageError, CEASE, describeNotification, ERR, shutdownCommunication } from "./notification.ts";
import type { Notification } from "./notification.ts";
import { encodeUpdateBodies } from "./update.ts";

/** A peer as the configuration resolves it. */
export interface PeerSettings {
  /** How logs and stats name it: its address, or address:port when the port is not 179. */
  name: string;
  address: string;
  port: number;
  as: number;
  password?: string;
  /** Seconds. */
  holdTime: number;
  /** TTL of our packets: 1 for a directly connected external peer, more with multihop. */
  ttl?: number;
}

export interface SessionDeps {
  clock: Clock;
  bus: EventBus;
  log: Logger;
  connect: TcpConnector;
}

/** What status() reports about one peer. */
export interface PeerStatus {
  peer: string;
  address: string;
  as: number;
  state: string;
  /** Wall ms of the last state change. */
  since: number;
  /** Established: the peer's identifier, the hold time agreed, our address (the next hop). */
  peerId?: string;
  holdTime?: number;
  localAddress?: string;
  /** Prefixes the peer holds from us now. */
  announced: string[];
  lastError?: string;
  /** Sessions established since start (more than one: it flapped). */
  established: number;
  messages: { sent: Record<string, number>; received: Record<string, number> };
  lastNotification?: { direction: "sent" | "received"; text: string; at: number };
}

/** Timers never wait longer than this; the machine re-checks its deadlines when they fire. */
const MAX_TIMER = 30_000;
/** How long stop() waits for the Cease to leave before closing anyway. */
const STOP_FLUSH = 1_000;

/** Drives the session with one peer. Construct, setRoutes() any time, start(), stop(). */
export class BgpSession {
  readonly peer: PeerSettings;
  #d: SessionDeps;
  #state: SessionState;
  #conn?: TcpConnection;
  #gen = 0;
  #reader = new MessageReader();
  #timer?: TimerHandle;
  #sinceWall: number;
  #established = 0;
  #sent: Record<string, number> = {};
  #received: Record<string, number> = {};
  #lastNotification?: PeerStatus["lastNotification"];
  #closed?: () => void;

  constructor(peer: PeerSettings, config: SessionConfig, deps: SessionDeps) {
    this.peer = peer;
    this.#d = deps;
    this.#state = initialState(config, deps.clock.now());
    this.#sinceWall = deps.clock.wallNow();
  }

  /** The machine's state name. */
  get state(): string {
    return this.#state.name;
  }

  /** Opens the session (and keeps reconnecting until stop). */
  start(): void {
    this.#dispatch({ type: "start" });
  }

  /** The routes the peer should have; sent at once when established, else when it is. */
  setRoutes(routes: WantedRoute[]): void {
    this.#dispatch({ type: "routes", routes });
  }

  /**
   * Ends the session with a Cease (Administrative Shutdown, RFC 4486; `reason` as the Shutdown
   * Communication of RFC 9003) and stops reconnecting. Resolves once the connection is closed.
   */
  async stop(reason: string, subcode: number = CEASE.ADMIN_SHUTDOWN): Promise<void> {
    const conn = this.#conn;
    const closed = conn ? new Promise<void>((r) => (this.#closed = r)) : Promise.resolve();
    this.#dispatch({ type: "stop", reason, subcode });
    this.#timer?.cancel();
    this.#timer = undefined;
    let t: TimerHandle | undefined;
    await Promise.race([closed, new Promise<void>((r) => (t = this.#d.clock.setTimeout(r, STOP_FLUSH)))]);
    t?.cancel();
    conn?.destroy();
  }

  status(): PeerStatus {
    const s = this.#state;
    return {
      peer: this.peer.name,
      address: this.peer.address,
      as: this.peer.as,
      state: s.name,
      since: this.#sinceWall,
      peerId: s.negotiated?.peerId,
      holdTime: s.negotiated?.holdTime,
      localAddress: s.localAddress,
      announced: Object.keys(s.sent),
      lastError: s.lastError,
      established: this.#established,
      messages: { sent: { ...this.#sent }, received: { ...this.#received } },
      lastNotification: this.#lastNotification,
    };
  }

  #dispatch(e: SessionEvent): void {
    const r = step(this.#state, e, this.#d.clock.now());
    this.#state = r.state;
    for (const a of r.actions) {
      try {
        this.#execute(a);
      } catch (err) {
        this.#d.log.error(`BGP action ${a.type} failed: ${describeError(err)}`, { peer: this.peer.name });
      }
    }
    this.#timer?.cancel();
    this.#timer = undefined;
    const at = nextDeadline(this.#state);
    if (at !== undefined) {
      const delay = Math.min(MAX_TIMER, Math.max(0, at - this.#d.clock.now()));
      this.#timer = this.#d.clock.setTimeout(() => this.#dispatch({ type: "timer" }), delay);
    }
  }

  #execute(a: SessionAction): void {
    const { log, bus } = this.#d;
    switch (a.type) {
      case "connect":
        this.#connect();
        return;
      case "send":
        this.#send(a.message);
        return;
      case "close": {
        const conn = this.#conn;
        this.#conn = undefined;
        this.#gen++;
        conn?.end();
        return;
      }
      case "transition": {
        this.#sinceWall = this.#d.clock.wallNow();
        const level = a.to === "established" || a.from === "established" ? "info" : "debug";
        log[level](`BGP ${this.peer.name}: ${a.from} → ${a.to}: ${a.reason}`, { peer: this.peer.name, as: this.peer.as });
        if (a.to === "established") {
          this.#established++;
          bus.emit("bgp.session_up", { peer: this.peer.name, as: this.peer.as, routerId: this.#state.negotiated?.peerId ?? "" });
        }
        if (a.from === "established") bus.emit("bgp.session_down", { peer: this.peer.name, as: this.peer.as, reason: a.reason });
        return;
      }
      case "notification_received":
        this.#noteNotification("received", a.notification);
        log.warn(`BGP ${this.peer.name}: the peer sent NOTIFICATION ${describeNotification(a.notification)}`, { peer: this.peer.name });
        return;
      case "log":
        log[a.level](`BGP ${this.peer.name}: ${a.message}`, { peer: this.peer.name });
        return;
    }
  }

  #noteNotification(direction: "sent" | "received", n: Notification): void {
    this.#lastNotification = { direction, text: describeNotification(n), at: this.#d.clock.wallNow() };
  }

  #connect(): void {
    const gen = ++this.#gen;
    const p = this.peer;
    this.#d.connect({ host: p.address, port: p.port, md5: p.password, ttl: p.ttl, timeout: this.#state.config.connectTimeout }).then(
      (conn) => {
        if (gen !== this.#gen || this.#state.name !== "connect") {
          conn.destroy();
          return;
        }
        this.#conn = conn;
        this.#reader = new MessageReader();
        conn.onData((chunk) => this.#onData(chunk, gen));
        conn.onClose((reason) => {
          this.#closed?.();
          this.#closed = undefined;
          if (gen !== this.#gen) return;
          this.#conn = undefined;
          this.#gen++;
          this.#dispatch({ type: "closed", reason });
        });
        this.#dispatch({ type: "connected", localAddress: conn.localAddress });
      },
      (err) => {
        if (gen !== this.#gen) return;
        this.#dispatch({ type: "connect_failed", reason: describeError(err).replace(/^Cannot connect to [^:]+:\d+: /, "") });
      },
    );
  }

  #onData(chunk: Uint8Array, gen: number): void {
    let messages: Uint8Array[];
    try {
      messages = this.#reader.push(chunk);
    } catch (err) {
      this.#malformed(err);
      return;
    }
    for (const bytes of messages) {
      if (gen !== this.#gen) return;
      const name = TYPE_NAMES[bytes[18]] ?? String(bytes[18]);
      this.#received[name] = (this.#received[name] ?? 0) + 1;
      const s = this.#state;
      const ctx = s.negotiated ? { as4: s.negotiated.as4, ebgp: s.config.localAs !== s.config.peerAs, peerAs: s.config.peerAs } : undefined;
      try {
        const message = decodeMessage(bytes, ctx);
        if (message.type === "notification") this.#noteNotification("received", message);
        this.#dispatch({ type: "message", message });
      } catch (err) {
        this.#malformed(err);
        return;
      }
    }
  }

  #malformed(err: unknown): void {
    if (!(err instanceof BgpMessageError)) {
      this.#d.log.error(`BGP ${this.peer.name}: cannot read a message: ${describeError(err)}`, { peer: this.peer.name });
      this.#dispatch({ type: "malformed", notification: { code: ERR.CEASE, subcode: CEASE.OUT_OF_RESOURCES, data: new Uint8Array(0) }, reason: describeError(err) });
      return;
    }
    this.#d.log.warn(`BGP ${this.peer.name}: bad message from the peer: ${err.message}`, { peer: this.peer.name });
    this.#dispatch({ type: "malformed", notification: err.notification, reason: err.message });
  }

  #send(m: OutMessage): void {
    const conn = this.#conn;
    if (!conn) return;
    const count = (type: number) => {
      const name = TYPE_NAMES[type];
      this.#sent[name] = (this.#sent[name] ?? 0) + 1;
    };
    switch (m.type) {
      case "open":
        conn.write(encodeOpen(m));
        count(TYPE.OPEN);
        return;
      case "keepalive":
        conn.write(encodeKeepalive());
        count(TYPE.KEEPALIVE);
        return;
      case "notification": {
        const n = m.notification;
        const data = m.shutdown !== undefined ? shutdownCommunication(m.shutdown) : n.data;
        conn.write(encodeNotification({ ...n, data }));
        count(TYPE.NOTIFICATION);
        this.#noteNotification("sent", { ...n, data });
        this.#d.log.info(`BGP ${this.peer.name}: sent NOTIFICATION ${describeNotification({ ...n, data })}`, { peer: this.peer.name });
        return;
      }
      case "update": {
        const as4 = this.#state.negotiated?.as4 ?? false;
        for (const body of encodeUpdateBodies(m.spec, { as4 })) {
          conn.write(frame(TYPE.UPDATE, body));
          count(TYPE.UPDATE);
        }
        const what = [
          ...(m.spec.announce ? [`announce ${m.spec.announce.prefixes.map((p) => `${p.address}/${p.length}`).join(" ")}`] : []),
          ...(m.spec.withdraw.length ? [`withdraw ${m.spec.withdraw.map((p) => `${p.address}/${p.length}`).join(" ")}`] : []),
        ];
        this.#d.log.debug(`BGP ${this.peer.name}: UPDATE ${what.join(", ")}`, { peer: this.peer.name });
        return;
      }
    }
  }
}
