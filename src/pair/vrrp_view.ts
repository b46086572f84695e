// What the pair reads of VRRP, in one shape: each instance's state with the settings that explain
// it. The VRRP subsystem is read only through services.vrrp.status() and the resolved config, so
// whether it runs one instance or several is decided here and nowhere else in src/pair/.

import type { Services } from "../core/subsystem.ts";
import type { VrrpConfig } from "../vrrp/config.ts";
import type { InstanceStatus } from "../vrrp/instance.ts";

/** One VRRP instance as the pair sees it. */
export interface InstanceView {
  instance: string;
  vrid: number;
  state: string;
  priority: number;
  basePriority: number;
  /** VIPs with their prefix ("192.0.2.100/24"). */
  vips: string[];
  master?: string;
  fault?: string;
  /** Wall ms of the last transition (or the start). */
  since: number;
  track: { name: string; weight: number; ok: boolean; detail: string }[];
  preempt: boolean;
  preemptDelay: number;
  advertInterval: number;
  lastAdvert?: { src: string; priority: number; at: number };
}

/** The resolved vrrp section: one instance, or several (`instances`). */
type VrrpSection = VrrpConfig | { instances: VrrpConfig[] } | undefined;

/** The configured instances, whatever the section's shape. */
export function vrrpInstanceConfigs(vrrp: unknown): VrrpConfig[] {
  const v = vrrp as VrrpSection;
  if (!v) return [];
  return "instances" in v && Array.isArray(v.instances) ? v.instances : [v as VrrpConfig];
}

/** The statuses services.vrrp reports: one instance, several, or none running. */
function statuses(services: Services): (InstanceStatus & { vrid?: number; lastAdvert?: InstanceView["lastAdvert"] })[] {
  const st = services.vrrp?.status() as unknown;
  if (!st || typeof st !== "object") return [];
  if ("instances" in st && Array.isArray((st as { instances: unknown }).instances)) return (st as { instances: InstanceStatus[] }).instances;
  if ("enabled" in st) return [];
  return (st as InstanceStatus).instance ? [st as InstanceStatus] : [];
}

/** Every running instance with the settings of its config. */
export function localInstances(services: Services, vrrp: unknown): InstanceView[] {
  const configs = new Map(vrrpInstanceConfigs(vrrp).map((c) => [c.name, c]));
  return statuses(services).map((s) => {
    const c = configs.get(s.instance);
    return {
      instance: s.instance,
      vrid: s.vrid ?? c?.vrid ?? 0,
      state: s.state,
      priority: s.priority,
      basePriority: s.basePriority,
      vips: s.vips ?? [],
      master: s.master,
      fault: s.fault,
      since: s.since,
      track: s.track ?? [],
      preempt: c?.preempt ?? true,
      preemptDelay: c?.preemptDelay ?? 0,
      advertInterval: c?.advertInterval ?? 1000,
      lastAdvert: s.lastAdvert,
    };
  });
}

/** True when an instance here is MASTER (this host holds its VIPs). */
export const holdsVip = (instances: readonly { state: string }[]): boolean => instances.some((i) => i.state === "master");
