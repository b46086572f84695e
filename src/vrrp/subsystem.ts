// The VRRP subsystem: one VrrpInstance per configured instance, their sync groups, real I/O, and
// ctx.services.vrrp. A reload adds, removes or restarts only the instances whose config changed.

import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import { describeError, TandemError } from "../core/errors.ts";
import type { VrrpConfig } from "./config_types.ts";
import { VrrpInstance, type InstanceStatus } from "./instance.ts";
import { hasAddress } from "./ip_address.ts";
import { realIo, resolveAddressing, type VrrpSubsystemConfig } from "./addressing.ts";
import { SyncGroupRunner, type SyncGroupStatus } from "./sync_runner.ts";

export { realIo, resolveAddressing, type VrrpAddressing, type VrrpSubsystemConfig } from "./addressing.ts";

/** What status() reports: every instance, in config order, and every sync group. */
export interface VrrpStatus {
  instances: InstanceStatus[];
  syncGroups: SyncGroupStatus[];
}

/** What the VRRP subsystem offers the others (ctx.services.vrrp). */
export interface VrrpService {
  status(): VrrpStatus;
  /**
   * Gives up mastership now (priority 0 advert), as on stop: the named instance, or every master
   * when no name is given. Returns the instances demoted. Throws TandemError E_NO_SUCH_INSTANCE.
   */
  demote(instance?: string): Promise<string[]>;
}

declare module "../core/subsystem.ts" {
  interface Services {
    vrrp?: VrrpService;
  }
}

/** Network identity: when it changes, a reload restarts the instance. */
function identity(c: VrrpConfig): string {
  return JSON.stringify([c.interface, c.vrid, c.family, c.version, c.advertInterval, c.auth, c.virtualIps, c.unicastSrc, c.unicastPeers, c.garp]);
}

/**
 * The VRRP subsystem. Does nothing when the config has no `vrrp` section. Fills
 * ctx.services.vrrp with status() and demote(). `makeIo` replaces the real I/O (tests).
 */
export function createVrrpSubsystem(ctx: SubsystemContext<VrrpSubsystemConfig>, makeIo: typeof realIo = realIo): Subsystem<VrrpSubsystemConfig> {
  const log = ctx.log.child("vrrp");
  let config = ctx.config;
  const instances = new Map<string, { cfg: VrrpConfig; instance: VrrpInstance }>();
  let groups: SyncGroupRunner[] = [];
  /** Sync groups are evaluated once every instance started (start order must not decide). */
  let ready = false;

  const groupOf = (name: string) => groups.find((g) => g.status().instances.includes(name));
  const onChange = (i: VrrpInstance) => {
    if (ready) groupOf(i.name)?.evaluate();
  };

  const startInstance = (cfg: VrrpConfig): void => {
    const addressing = resolveAddressing(cfg);
    const io = makeIo(cfg, addressing, ctx, () => config);
    if (!addressing.owner) {
      // VIPs left behind by a killed process would keep answering ARP/ND: a new instance starts clean.
      for (const vip of cfg.virtualIps) {
        const dev = vip.dev ?? cfg.interface;
        if (!hasAddress(dev, vip.cidr.address)) continue;
        log.warn(`Removing ${vip.cidr.address} left on "${dev}" by an earlier run`, { instance: cfg.name });
        try {
          io.addresses.remove({ address: vip.cidr.address, prefix: vip.cidr.prefix, dev, label: vip.label });
        } catch (err) {
          log.error(describeError(err), { instance: cfg.name });
        }
      }
    }
    const instance = new VrrpInstance(cfg, { clock: ctx.clock, bus: ctx.bus, log, io, primaryIp: addressing.src, owner: addressing.owner, onChange });
    instances.set(cfg.name, { cfg, instance });
    const where = addressing.peers.length ? `unicast to ${addressing.peers.join(", ")}` : `multicast ${cfg.family === 6 ? "ff02::12" : "224.0.0.18"}`;
    log.info(`VRRP instance "${cfg.name}" on ${cfg.interface}: VRID ${cfg.vrid}, v${cfg.version}${cfg.family === 6 ? " IPv6" : ""}, priority ${addressing.owner ? 255 : cfg.priority}, ${where} from ${addressing.src}${cfg.syncGroup ? `, sync group ${cfg.syncGroup}` : ""}`);
    instance.start();
  };

  const stopInstance = async (name: string, reason: string): Promise<void> => {
    const entry = instances.get(name);
    if (!entry) return;
    instances.delete(name);
    await entry.instance.stop(reason);
  };

  /** Sync group runners for the config, keeping each group's state across a reload. */
  const buildGroups = (next: VrrpSubsystemConfig): SyncGroupRunner[] =>
    (next.vrrp?.syncGroups ?? []).map((g) => new SyncGroupRunner(g, {
      members: () => g.instances.map((n) => instances.get(n)?.instance).filter((i): i is VrrpInstance => i !== undefined),
      bus: ctx.bus,
      log,
      state: groups.find((old) => old.name === g.name)?.status().state,
    }));

  const evaluateGroups = () => {
    for (const g of groups) g.evaluate();
  };

  // A split brain seen over the pair link is over: the host that kept the VIP says so again (GARP).
  ctx.bus.on("pair.split_brain_ended", (e) => instances.get(e.instance)?.instance.regarp());

  ctx.services.vrrp = {
    status: () => ({ instances: [...instances.values()].map((e) => e.instance.status()), syncGroups: groups.map((g) => g.status()) }),
    async demote(name) {
      if (name !== undefined) {
        const entry = instances.get(name);
        if (!entry) throw new TandemError("E_NO_SUCH_INSTANCE", `No VRRP instance "${name}": instances are ${[...instances.keys()].join(", ") || "none"}`);
        entry.instance.demote();
        return [name];
      }
      const masters = [...instances.values()].filter((e) => e.instance.state === "master");
      for (const e of masters) e.instance.demote();
      return masters.map((e) => e.cfg.name);
    },
  };

  return {
    name: "vrrp",
    async start() {
      groups = buildGroups(config);
      for (const cfg of config.vrrp?.instances ?? []) startInstance(cfg);
      ready = true;
      evaluateGroups();
    },
    async reload(next: VrrpSubsystemConfig) {
      config = next;
      const wanted = new Map((next.vrrp?.instances ?? []).map((c) => [c.name, c]));
      ready = false;
      try {
        for (const [name, entry] of [...instances]) {
          const after = wanted.get(name);
          if (!after) {
            log.info(`VRRP instance "${name}" removed from the configuration: stopping it`, { instance: name });
            await stopInstance(name, "removed by a reload");
          } else if (identity(entry.cfg) !== identity(after)) {
            await stopInstance(name, "reload");
          }
        }
        groups = buildGroups(next);
        for (const [name, cfg] of wanted) {
          const entry = instances.get(name);
          if (entry) {
            entry.cfg = cfg;
            entry.instance.update(cfg);
          } else {
            startInstance(cfg);
          }
        }
      } finally {
        ready = true;
      }
      evaluateGroups();
    },
    async stop(reason: string) {
      const names = [...instances.keys()];
      await Promise.all(names.map((n) => stopInstance(n, reason)));
      await Promise.all(groups.map((g) => g.drain()));
    },
  };
}
