// Turns the lab's resolved VrrpConfig pairs into one tandem.yaml (roles master/backup), as users write it.

import { stringify } from "yaml";
import { isDeepStrictEqual } from "node:util";
import type { VrrpConfig } from "../../src/vrrp/config.ts";

/** Keys of the vrrp section a role may override (src/vrrp/config.ts vrrpRoleKeys). */
type RoleKeys = { priority: number; preempt?: boolean; preempt_delay?: number; unicast_src?: string; unicast_peers?: string[]; router_id?: string };

/** What the two hosts of a scenario run: the VRRP settings each role resolves to, and other sections. */
export interface LabScenario {
  master: VrrpConfig;
  backup: VrrpConfig;
  /**
   * Written as `vrrp.instances` by name (the first pair, master/backup above, included) when
   * present: several instances, each with the settings each role resolves to.
   */
  more?: { master: VrrpConfig; backup: VrrpConfig }[];
  /** `vrrp.sync_groups`: group name → instance names. */
  syncGroups?: Record<string, string[]>;
  /** Further top-level sections in the YAML schema (global, proxies, notify, alerts...). */
  sections?: Record<string, unknown>;
}

/** The part of a VrrpConfig a role may override, in YAML keys. */
function roleKeys(v: VrrpConfig): RoleKeys {
  const r: RoleKeys = { priority: v.priority };
  if (!v.preempt) r.preempt = false;
  if (v.preemptDelay) r.preempt_delay = v.preemptDelay;
  if (v.unicastSrc !== undefined) r.unicast_src = v.unicastSrc;
  if (v.unicastPeers.length) r.unicast_peers = v.unicastPeers;
  r.router_id = v.routerId;
  return r;
}

/**
 * The shared part of a VrrpConfig, in YAML keys. `initialState` is not written: tandem starts
 * every non-owner as backup (RFC 5798 §6.4.1), and `state` defaults to the role.
 */
function sharedKeys(v: VrrpConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: v.name,
    interface: v.interface,
    virtual_router_id: v.vrid,
    version: v.version,
    advert_interval: `${v.advertInterval}ms`,
  };
  if (v.auth) out.authentication = { type: "pass", password: v.auth.password };
  out.virtual_ips = v.virtualIps.map((x) => {
    const cidr = `${x.cidr.address}/${x.cidr.prefix}`;
    return x.dev || x.label ? { address: cidr, ...(x.dev ? { dev: x.dev } : {}), ...(x.label ? { label: x.label } : {}) } : cidr;
  });
  const track: Record<string, unknown> = {};
  if (v.track.interfaces.length) track.interfaces = v.track.interfaces.map((i) => (i.weight ? { name: i.name, weight: i.weight } : i.name));
  if (v.track.proxy) {
    track.proxy = { weight: v.track.proxy.weight, min_servers: v.track.proxy.minServers, ...(v.track.proxy.proxies ? { proxies: v.track.proxy.proxies } : {}) };
  }
  if (v.track.scripts.length) {
    track.scripts = Object.fromEntries(v.track.scripts.map((s) => [s.name, {
      command: s.command, interval: `${s.interval}ms`, timeout: `${s.timeout}ms`, rise: s.rise, fall: s.fall, weight: s.weight,
    }]));
  }
  if (Object.keys(track).length) out.track = track;
  const { timeout, ...commands } = v.notify;
  out.notify = { ...Object.fromEntries(Object.entries(commands).filter(([, c]) => c !== undefined)), timeout: `${timeout}ms` };
  out.garp = {
    count: v.garp.count, interval: `${v.garp.interval}ms`, repeat_delay: `${v.garp.repeatDelay}ms`, repeat_count: v.garp.repeatCount,
    ...(v.garp.refresh !== undefined ? { refresh: `${v.garp.refresh}ms` } : {}),
  };
  return out;
}

/**
 * The vrrp section serving both roles. Throws when master and backup differ in a key that a role
 * cannot override (the same file must serve both hosts, so such a scenario is not expressible).
 */
export function vrrpSection(master: VrrpConfig, backup: VrrpConfig): Record<string, unknown> {
  const shared = sharedKeys(master);
  const other = sharedKeys(backup);
  for (const key of new Set([...Object.keys(shared), ...Object.keys(other)])) {
    if (!isDeepStrictEqual(shared[key], other[key])) {
      throw new Error(`master and backup differ in vrrp.${key} (${JSON.stringify(shared[key])} vs ${JSON.stringify(other[key])}), which a role cannot override`);
    }
  }
  // A role-overridable key both roles agree on is written once, above the roles (priority stays per role).
  const m: Record<string, unknown> = { ...roleKeys(master) };
  const b: Record<string, unknown> = { ...roleKeys(backup) };
  const common: Record<string, unknown> = {};
  for (const key of Object.keys(m)) {
    if (key !== "priority" && key in b && isDeepStrictEqual(m[key], b[key])) {
      common[key] = m[key];
      delete m[key];
      delete b[key];
    }
  }
  return { ...common, ...shared, roles: { master: m, backup: b } };
}

/** One tandem.yaml for both hosts of a scenario: one instance in the original form, or `instances:`. */
export function scenarioYaml(s: LabScenario): string {
  if (!s.more && !s.syncGroups) return stringify({ ...(s.sections ?? {}), vrrp: vrrpSection(s.master, s.backup) });
  const pairs = [{ master: s.master, backup: s.backup }, ...(s.more ?? [])];
  const instances = Object.fromEntries(pairs.map((p) => {
    const { name: _n, ...section } = vrrpSection(p.master, p.backup);
    return [p.master.name, section];
  }));
  return stringify({ ...(s.sections ?? {}), vrrp: { instances, ...(s.syncGroups ? { sync_groups: s.syncGroups } : {}) } });
}
