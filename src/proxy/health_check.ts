// Health checks: TCP connect and HTTP probes, run on a Clock, feeding the rise/fall state machine.

import type { Clock, TimerHandle } from "../core/clock.ts";
import { netTransport } from "../runtime/net_transport.ts";
import type { Conn, Transport, TransportError } from "../runtime/transport.ts";
import type { HealthCheckConfig } from "./config_types.ts";
import { initialHealth, nextCheckDelay, stepHealth } from "./health_state.ts";
import type { ServerTlsConfig } from "../tls/config.ts";
import { describeTlsError, startClientTls } from "../tls/client.ts";
import type { CheckResult, HealthAction, HealthState } from "./health_state.ts";

/** Where a probe goes. */
export interface ProbeTarget {
  host: string;
  port: number;
  /** Probe over TLS (a server with tls:): the handshake is part of the L4 step (haproxy check-ssl). */
  tls?: ServerTlsConfig;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
};

/**
 * One probe: TCP connect, then for type "http" one request (HTTP/1.0, Connection: close) whose
 * status must fall in check.expectStatus. Never rejects: every failure is a CheckResult saying
 * which layer failed. The whole probe is bounded by check.timeout.
 */
export function probe(target: ProbeTarget, check: HealthCheckConfig, clock: Clock, transport: Transport = netTransport): Promise<CheckResult> {
  const started = clock.now();
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    let socket: Conn | undefined;
    const timer: TimerHandle = clock.setTimeout(() => {
      finish(false, connected && check.type === "http" ? "L7TOUT" : "L4TOUT", `timeout after ${check.timeout}ms`);
    }, check.timeout);
    const finish = (ok: boolean, status: CheckResult["status"], detail: string) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      socket?.destroy();
      resolve({ ok, status, detail, duration: Math.round(clock.now() - started) });
    };
    const failed = (err: TransportError) => finish(false, connected && check.type === "http" ? "L7RSP" : "L4CON", ERRNO_TEXT[err.code ?? ""] ?? err.message);
    /** Layer 4 is up (TCP, or TLS over it): an L4 check is done, an HTTP one asks. */
    const speak = (s: Conn) => {
      connected = true;
      socket = s;
      s.on("error", failed);
      if (check.type !== "http") return finish(true, "L4OK", "connected");
      let head = "";
      s.on("data", (chunk: Buffer) => {
        head += chunk.toString("latin1");
        const eol = head.indexOf("\n");
        if (eol < 0) {
          if (head.length > 1024) finish(false, "L7RSP", "status line too long");
          return;
        }
        // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
        const m = /^HTTP\/1\.[01] (\d{3})(?: |\r?$)/.exec(head.slice(0, eol).replace(/\r$/, ""));
        if (!m) return finish(false, "L7RSP", "not an HTTP/1.x response");
        const code = Number(m[1]);
        if (code >= check.expectStatus.min && code <= check.expectStatus.max) finish(true, "L7OK", `HTTP status ${code}`);
        else finish(false, "L7STS", `HTTP status ${code}`);
      });
      s.on("end", () => finish(false, "L7RSP", "connection closed before a status line"));
      const host = check.host ? `Host: ${check.host}\r\n` : "";
      s.write(`${check.method} ${check.path} HTTP/1.0\r\n${host}User-Agent: tandem-check\r\nConnection: close\r\n\r\n`);
      s.resume();
    };
    // A server with tls: is checked over TLS, the handshake part of layer 4 (haproxy check-ssl).
    const tcpUp = (s: Conn) => {
      const tls = target.tls;
      if (!tls) return speak(s);
      s.on("error", () => {}); // the TLS socket reports failures
      socket = startClientTls(s as unknown as Parameters<typeof startClientTls>[0], tls, target.host, target.port, (err, secure) => {
        if (err || !secure) return finish(false, "L4CON", `TLS: ${describeTlsError(err ?? new Error("no TLS socket"))}`);
        speak(secure as unknown as Conn);
      }) as unknown as Conn | undefined ?? s;
    };
    try {
      socket = transport.dial({ host: target.host, port: target.port, timeout: 0 }, { dialed: (err, s) => (err ? failed(err) : tcpUp(s)) });
    } catch (err) {
      finish(false, "SOCKERR", (err as Error).message);
      return;
    }
  });
}

/**
 * Runs probes for one server forever (until stop), applying each result to the state machine
 * and reporting transitions. The first probe runs after a random part of the interval so many
 * servers do not all check at the same instant (haproxy spreads them too).
 */
export class HealthChecker {
  #target: ProbeTarget;
  #check: HealthCheckConfig;
  #clock: Clock;
  #onTransition: (action: HealthAction, state: HealthState) => void;
  #state: HealthState;
  #timer: TimerHandle | undefined;
  #running = false;
  #probe: typeof probe;
  #transport: Transport;
  /** Probes run and failed since this checker was created (stats: haproxy chkfail). */
  checks = 0;
  failures = 0;

  constructor(options: {
    target: ProbeTarget;
    check: HealthCheckConfig;
    clock: Clock;
    initial: HealthState | "up" | "down";
    onTransition: (action: HealthAction, state: HealthState) => void;
    /** Replaceable for tests. */
    probe?: typeof probe;
    transport?: Transport;
  }) {
    this.#target = options.target;
    this.#check = options.check;
    this.#clock = options.clock;
    this.#onTransition = options.onTransition;
    this.#state = typeof options.initial === "string" ? initialHealth(options.check, options.initial) : options.initial;
    this.#probe = options.probe ?? probe;
    this.#transport = options.transport ?? netTransport;
  }

  get state(): HealthState {
    return this.#state;
  }

  get check(): HealthCheckConfig {
    return this.#check;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(Math.floor(Math.random() * Math.min(this.#check.interval, 1000)));
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    if (!this.#running) return;
    // Never sleep more than 30 s in one timer (long intervals are re-armed).
    const step = Math.min(delay, 30_000);
    this.#timer = this.#clock.setTimeout(() => {
      if (step < delay) return this.#schedule(delay - step);
      void this.#runOnce();
    }, step);
  }

  async #runOnce(): Promise<void> {
    const result = await this.#probe(this.#target, this.#check, this.#clock, this.#transport);
    if (!this.#running) return;
    this.checks++;
    if (!result.ok) this.failures++;
    const out = stepHealth(this.#state, result, this.#check);
    this.#state = out.state;
    for (const a of out.actions) this.#onTransition(a, this.#state);
    this.#schedule(nextCheckDelay(this.#state, this.#check));
  }
}
