// The YAML schema of the `vrrp` section: one instance written at the top (the original form), or
// `instances:` by name with `sync_groups:`.

import { z } from "zod";
import { cidr, duration, int } from "../config/schema_types.ts";

const obj = z.strictObject;

const trackScript = obj({
  command: z.string(),
  interval: duration.optional(),
  timeout: duration.optional(),
  rise: int(1, 100).optional(),
  fall: int(1, 100).optional(),
  weight: int(-253, 253).optional(),
});

const notify = obj({
  master: z.string().optional(),
  backup: z.string().optional(),
  fault: z.string().optional(),
  stop: z.string().optional(),
  timeout: duration.optional(),
});

/** Keys a role may override inside roles.<role>. */
export const vrrpRoleKeys = {
  priority: int(1, 255).optional(),
  interface: z.string().optional(),
  preempt: z.boolean().optional(),
  preempt_delay: duration.optional(),
  unicast_src: z.string().optional(),
  unicast_peers: z.array(z.string()).optional(),
  state: z.enum(["master", "backup", "MASTER", "BACKUP"]).optional(),
  address_owner: z.boolean().optional(),
  router_id: z.string().optional(),
};

/** The keys of one instance (without its name, which is the key under `instances:`). */
const instanceKeys = {
  ...vrrpRoleKeys,
  interface: z.string(),
  virtual_router_id: int(1, 255),
  version: z.union([z.literal(2), z.literal(3)]).optional(),
  advert_interval: duration.optional(),
  authentication: obj({ type: z.literal("pass"), password: z.union([z.string(), z.number()]) }).optional(),
  virtual_ips: z.array(z.union([cidr, obj({ address: cidr, dev: z.string().optional(), label: z.string().optional() })])),
  track: obj({
    interfaces: z.array(z.union([z.string(), obj({ name: z.string(), weight: int(-253, 253).optional() })])).optional(),
    proxy: obj({
      weight: int(-253, 253).optional(),
      min_servers: z.union([int(0, 10_000), z.record(z.string(), int(0, 10_000))]).optional(),
      proxies: z.union([z.array(z.string()), z.literal("bound")]).optional(),
    }).optional(),
    scripts: z.record(z.string(), trackScript).optional(),
  }).optional(),
  notify: notify.optional(),
  garp: obj({
    count: int(0, 100).optional(),
    interval: duration.optional(),
    repeat_delay: duration.optional(),
    repeat_count: int(0, 100).optional(),
    refresh: duration.optional(),
  }).optional(),
  roles: z.record(z.string(), obj(vrrpRoleKeys)),
};

export const instanceSchema = obj(instanceKeys);

const syncGroupSchema = z.union([
  z.array(z.string()),
  obj({ instances: z.array(z.string()), notify: notify.optional() }),
]);

/** The keys an instance cannot do without (the one-instance form checks them in config.ts). */
export const REQUIRED_KEYS = ["interface", "virtual_router_id", "virtual_ips", "roles"] as const;

/**
 * The section: the keys of both forms, all optional — the one-instance form (an instance's keys at
 * the top, its name under `name`) or `instances:` with `sync_groups:`. Which form a file uses, and
 * what it lacks or mixes, is checked in config.ts, so each mistake gets its own message.
 */
export const vrrpSchema = obj({
  ...instanceKeys,
  interface: instanceKeys.interface.optional(),
  virtual_router_id: instanceKeys.virtual_router_id.optional(),
  virtual_ips: instanceKeys.virtual_ips.optional(),
  roles: instanceKeys.roles.optional(),
  name: z.string().optional(),
  instances: z.record(z.string(), instanceSchema).optional(),
  sync_groups: z.record(z.string(), syncGroupSchema).optional(),
});

export type InstanceInput = z.output<typeof instanceSchema>;
export type VrrpInput = z.output<typeof vrrpSchema>;
