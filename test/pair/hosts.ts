// Two tandem "hosts" in one process for tests of the pair subsystem: each a real pair subsystem
// with real backends and stick tables behind a small proxy service, a VRRP stand-in, the
// daemon's validate/reload stand-ins, and one in-memory transport between them.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { EventBus, type AnyEvent } from "../../src/core/events.ts";
import { nullLogger } from "../../src/core/log.ts";
import type { ReloadOutcome, Services, Subsystem, ValidateOutcome } from "../../src/core/subsystem.ts";
import { Backend } from "../../src/proxy/backend.ts";
import type { ClientInfo } from "../../src/proxy/accepted_client.ts";
import { StickSharing } from "../../src/proxy/stick_sharing.ts";
import type { ProxyService } from "../../src/proxy/subsystem.ts";
import { createPairSubsystem, type PairSubsystemConfig } from "../../src/pair/subsystem.ts";
import { loadConfigText, type TandemConfig } from "../../src/tandem_config.ts";
import type { InstanceStatus } from "../../src/vrrp/instance.ts";
import { MemoryTransport } from "../helpers/memory_transport.ts";

let nextPort = 27_400;

/** A config for both hosts: pair link on `port`, one tcp proxy "web" sticking on src to a, b, c. */
export function pairYaml(port: number, extra = "", stateDir = mkdtempSync(join(tmpdir(), "tandem-pair-"))): string {
  return `
global: { state_dir: ${JSON.stringify(stateDir)} }
pair:
  key: a-test-key-that-is-long-enough
  port: ${port}
  roles:
    master: { address: 192.0.2.11 }
    backup: { address: 192.0.2.12 }
vrrp:
  interface: eth0
  virtual_router_id: 51
  virtual_ips: [192.0.2.100/24]
  roles: { master: { priority: 100 }, backup: { priority: 50 } }
proxies:
  web:
    mode: tcp
    bind: 192.0.2.100:8080
    stick: { on: src, expire: 30m, size: 2000000 }
    servers:
      a: { address: 10.0.0.1, port: 80 }
      b: { address: 10.0.0.2, port: 80 }
      c: { address: 10.0.0.3, port: 80 }
${extra}`;
}

export function newPort(): number {
  return nextPort++;
}

/** The config for role, as the host named `hostname` resolves it (one file serves both). */
export function load(text: string, role: "master" | "backup", hostname: string): TandemConfig {
  const r = loadConfigText(text, "pair.yaml", role);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  r.config.global.hostname = hostname;
  return r.config;
}

export interface TestHost {
  name: string;
  config: TandemConfig;
  bus: EventBus;
  events: AnyEvent[];
  services: Services;
  backend: Backend;
  pair: Subsystem<PairSubsystemConfig>;
  /** The VRRP stand-in's state (what services.vrrp.status() says). */
  vrrp: { state: string; priority: number };
  closed: string[][];
  /** What validate/reload answer (tests set them). */
  validate: ValidateOutcome;
  reloads: number;
  reloadWith?: TandemConfig;
  stick(src: string, server: string): void;
  table(): Map<string, string>;
}

/** One host; its pair link dials or listens on linkTransport. */
export function makeHost(name: string, role: "master" | "backup", text: string, linkTransport: MemoryTransport): TestHost {
  const config = load(text, role, name);
  const bus = new EventBus();
  const events: AnyEvent[] = [];
  bus.onAny((e) => events.push(e));
  const backend = new Backend(config.backends[0], { clock: systemClock, bus, log: nullLogger, transport: new MemoryTransport() });
  const backends = new Map([[backend.name, backend]]);
  const sharing = new StickSharing({ backends: () => backends, clock: systemClock });
  sharing.wire(backend);
  const closed: string[][] = [];
  const vrrp = { state: role === "master" ? "master" : "backup", priority: role === "master" ? 100 : 50 };
  const host = {} as TestHost;
  const proxy: Partial<ProxyService> = {
    watchStick: (fn) => sharing.watch(fn),
    applyStick: (p, e) => sharing.apply(p, e),
    stickReader: (p, k) => sharing.reader(p, k),
    stickTables: () => [backend.name],
    healthy: () => ({ healthy: true, reason: "all listeners bound, servers up" }),
    status: () => ({ connections: 0, maxconn: 100, frontends: [], backends: [backend.status()] }),
    closeAccepted: (a) => {
      closed.push([...a]);
      return 1;
    },
  };
  const status = (): InstanceStatus => ({
    instance: "VI_1", interface: "eth0", vrid: 51, family: 4, state: vrrp.state, priority: vrrp.priority, basePriority: vrrp.priority, vips: ["192.0.2.100/24"], since: Date.now(),
    master: vrrp.state === "master" ? "self" : "192.0.2.11", received: { accepted: 0, dropped: {}, warnings: {} }, track: [],
  });
  const services: Services = {
    proxy: proxy as ProxyService,
    vrrp: { status: () => ({ instances: [status()], syncGroups: [] }), demote: async () => [] },
    validate: async () => host.validate,
    reload: async (): Promise<ReloadOutcome> => {
      host.reloads++;
      if (host.reloadWith) {
        const next = host.reloadWith;
        host.reloadWith = undefined;
        await host.pair.reload(next);
        host.config = next;
      }
      return { applied: true, errors: [] };
    },
  };
  const pair = createPairSubsystem({ config, bus, clock: systemClock, log: nullLogger, services }, { transport: linkTransport });
  Object.assign(host, {
    name, config, bus, events, services, backend, pair, vrrp, closed, reloads: 0,
    validate: { valid: true, errors: [], config },
    stick(src: string, server: string) {
      backend.stickStore({ srcAddress: src, srcPort: 1, dstAddress: "192.0.2.100", dstPort: 8080, frontend: "web" } as ClientInfo, backend.servers.get(server)!);
    },
    table: () => new Map(backend.stick!.entries().map((e) => [e.key, e.server])),
  });
  return host;
}

/** Polls fn until true or ms pass. */
export async function until(fn: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

export const named = (h: TestHost, event: string) => h.events.filter((e) => e.name === event).map((e) => e.data as unknown as Record<string, unknown>);
