// The `alerts` section: scheduled checks (crontab's jobs) and event rules, every check on them.

import { isIP } from "node:net";
import { z } from "zod";
import type { Diagnostics, Path } from "../config/diagnostics.ts";
import type { ConfigSection, SectionContext } from "../config/section.ts";
import { duration, int, statusRange, stringList } from "../config/schema_types.ts";
import { didYouMean } from "../config/suggest.ts";
import type { BaseConfig, Role } from "../config/types.ts";
import { parseHostPort } from "../core/address.ts";
import { ALERT_EVENTS } from "./event_map.ts";
import { parseSchedule, ScheduleError } from "./schedule.ts";
import { PLACEHOLDERS, unknownPlaceholders } from "./template.ts";

export const ALERT_DEFAULTS = { groupWindow: 3_000, flapWindow: 600_000, flapThreshold: 6, checkTimeout: 10_000 } as const;
/** The shortest `@every` an operator may schedule: checks more often than this are a mistake. */
export const MIN_SCHEDULE_INTERVAL = 1_000;

export type AlertCheck =
  | { vip_held: string }
  | { vip_not_held: string }
  | { server_state: { proxy: string; server: string; state: "up" | "down" } }
  | { tcp_connect: string; timeout: number }
  | { http_get: string; expect: { min: number; max: number }; timeout: number }
  | { command: string; timeout: number };

export interface AlertRule {
  name: string;
  /** Scheduled job: cron (5/6 fields), @every 30s, @hourly... */
  schedule?: string;
  timezone?: string;
  check?: AlertCheck;
  /** Event rule: an event name such as vrrp_state_change or server_down. */
  on?: string;
  filter: { proxy?: string; server?: string; instance?: string; group?: string; states?: string[] };
  roles?: Role[];
  notify: string[];
  subject?: string;
  message?: string;
  repeat?: number;
  rateLimit?: { count: number; per: number };
  groupWindow: number;
  flap: { window: number; threshold: number };
}

const obj = z.strictObject;

const alertCheck = z.union([
  obj({ vip_held: z.string() }),
  obj({ vip_not_held: z.string() }),
  obj({ server_state: obj({ proxy: z.string(), server: z.string(), state: z.enum(["up", "down"]).optional() }) }),
  obj({ tcp_connect: z.string(), timeout: duration.optional() }),
  obj({ http_get: z.string().url(), expect: obj({ status: statusRange }).optional(), timeout: duration.optional() }),
  obj({ command: z.string(), timeout: duration.optional() }),
]);

const alertSchema = obj({
  name: z.string(),
  schedule: z.string().optional(),
  timezone: z.string().optional(),
  check: alertCheck.optional(),
  on: z.enum(Object.keys(ALERT_EVENTS) as [keyof typeof ALERT_EVENTS]).optional(),
  filter: obj({ proxy: z.string().optional(), server: z.string().optional(), instance: z.string().optional(), group: z.string().optional(), states: stringList.optional() }).optional(),
  roles: z.array(z.string()).optional(),
  notify: stringList,
  subject: z.string().optional(),
  message: z.string().optional(),
  repeat: duration.optional(),
  rate_limit: obj({ count: int(1, 100_000), per: duration }).optional(),
  group_window: duration.optional(),
  flap: obj({ window: duration, threshold: int(2, 1000) }).optional(),
});

type AlertInput = z.output<typeof alertSchema>;
const ROLE_NAMES: readonly string[] = ["master", "backup"];

function checkOf(a: AlertInput, path: Path, diag: Diagnostics): AlertCheck | undefined {
  const c = a.check;
  if (!c) return undefined;
  const timeout = ("timeout" in c ? c.timeout : undefined) ?? ALERT_DEFAULTS.checkTimeout;
  if ("tcp_connect" in c) {
    try {
      parseHostPort(c.tcp_connect);
    } catch (err) {
      diag.error([...path, "check", "tcp_connect"], `"${c.tcp_connect}" is not host:port: ${(err as Error).message}`);
    }
    return { tcp_connect: c.tcp_connect, timeout };
  }
  if ("http_get" in c) {
    const expect = c.expect?.status ?? { min: 200, max: 399 };
    if (expect.min > expect.max) diag.error([...path, "check", "expect"], `expected status range ${expect.min}-${expect.max} runs backwards`);
    return { http_get: c.http_get, expect, timeout };
  }
  if ("command" in c) return { command: c.command, timeout };
  if ("server_state" in c) return { server_state: { ...c.server_state, state: c.server_state.state ?? "up" } };
  const held = "vip_held" in c;
  const ip = held ? c.vip_held : c.vip_not_held;
  if (isIP(ip) === 0) diag.error([...path, "check", held ? "vip_held" : "vip_not_held"], `"${ip}" is not an IP address`);
  return c;
}

/** Resolves one rule and reports what its own keys get wrong. */
function ruleOf(a: AlertInput, i: number, ctx: SectionContext, notifiers: string[], diag: Diagnostics): AlertRule {
  const path = ["alerts", i];
  if ((a.schedule === undefined) === (a.on === undefined)) diag.error(path, `alert "${a.name}" needs exactly one of schedule: or on:`, "schedule: runs a check periodically; on: reacts to an event", true);
  if (a.schedule !== undefined) {
    if (a.check === undefined) diag.error(path, `scheduled alert "${a.name}" needs a check:`, "vip_held, vip_not_held, server_state, tcp_connect, http_get or command", true);
    try {
      parseSchedule(a.schedule, a.timezone, MIN_SCHEDULE_INTERVAL);
    } catch (err) {
      const e = err as ScheduleError;
      diag.error([...path, e.field ?? "schedule"], e.message, e.hint);
    }
  } else if (a.check !== undefined) {
    diag.error([...path, "check"], `event alert "${a.name}" cannot have a check:`, "checks belong to scheduled alerts (schedule:)", true);
  }
  if (a.notify.length === 0) diag.error([...path, "notify"], `alert "${a.name}" notifies nobody`);
  const written = ctx.written("notify");
  a.notify.forEach((n, j) => {
    if (notifiers.includes(n) || written.has(n)) return;
    diag.error([...path, "notify", j], `unknown notifier "${n}"`, didYouMean(n, notifiers) ?? (notifiers.length ? `defined notifiers: ${notifiers.join(", ")}` : "define it under notify:"));
  });
  (a.roles ?? []).forEach((r, j) => {
    if (!ROLE_NAMES.includes(r.toLowerCase())) diag.error([...path, "roles", j], `unknown role "${r}"`, "roles are master and backup");
  });
  for (const field of ["subject", "message"] as const) {
    const t = a[field];
    const bad = t === undefined ? [] : unknownPlaceholders(t);
    if (bad.length > 0) diag.warn([...path, field], `unknown placeholder ${bad.map((b) => `{${b}}`).join(", ")} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`);
  }
  if (a.rate_limit && a.rate_limit.per <= 0) diag.error([...path, "rate_limit"], `rate limit must allow at least 1 message per a positive period`);
  return {
    name: a.name,
    schedule: a.schedule,
    timezone: a.timezone,
    check: checkOf(a, path, diag),
    on: a.on,
    filter: { proxy: a.filter?.proxy, server: a.filter?.server, instance: a.filter?.instance, group: a.filter?.group, states: a.filter?.states },
    roles: a.roles?.map((r) => r.toLowerCase() as Role),
    notify: a.notify,
    subject: a.subject,
    message: a.message,
    repeat: a.repeat,
    rateLimit: a.rate_limit,
    groupWindow: a.group_window ?? (a.on ? ALERT_DEFAULTS.groupWindow : 0),
    flap: { window: a.flap?.window ?? ALERT_DEFAULTS.flapWindow, threshold: a.flap?.threshold ?? ALERT_DEFAULTS.flapThreshold },
  };
}

/** What a rule names in the proxy: a server_state check's proxy and server, a filter's proxy. */
function checkProxyNames(rules: readonly (AlertInput | undefined)[], config: BaseConfig & Record<string, unknown>, diag: Diagnostics): void {
  const backends = (config.backends ?? []) as { name: string; servers: { name: string }[] }[];
  const frontends = (config.frontends ?? []) as { name: string }[];
  const known = [...backends.map((b) => b.name), ...frontends.map((f) => f.name)];
  const list = (names: string[]) => names.map((n) => `"${n}"`).join(", ") || "none";
  rules.forEach((r, i) => {
    if (r === undefined) return;
    const c = r.check;
    if (c && "server_state" in c) {
      const backend = backends.find((b) => b.name === c.server_state.proxy);
      if (!known.includes(c.server_state.proxy)) diag.error(["alerts", i, "check", "server_state", "proxy"], `unknown proxy "${c.server_state.proxy}" (configured: ${list(known)})`);
      else if (backend && !backend.servers.some((s) => s.name === c.server_state.server)) diag.error(["alerts", i, "check", "server_state", "server"], `proxy "${backend.name}" has no server "${c.server_state.server}" (servers: ${list(backend.servers.map((s) => s.name))})`);
    }
    const filtered = r.filter?.proxy;
    if (filtered !== undefined && !known.includes(filtered)) diag.warn(["alerts", i, "filter", "proxy"], `no proxy named "${filtered}" (configured: ${list(known)})`);
  });
}

/** A filter's VRRP instance or sync group must exist (a typo would silence the rule). */
function checkVrrpNames(rules: readonly (AlertInput | undefined)[], config: BaseConfig & Record<string, unknown>, diag: Diagnostics): void {
  const vrrp = config.vrrp as { instances: { name: string }[]; syncGroups: { name: string }[] } | undefined;
  const known = { instance: (vrrp?.instances ?? []).map((i) => i.name), group: (vrrp?.syncGroups ?? []).map((g) => g.name) };
  rules.forEach((r, i) => {
    for (const key of ["instance", "group"] as const) {
      const name = r?.filter?.[key];
      if (name === undefined || known[key].includes(name)) continue;
      const list = known[key].map((n) => `"${n}"`).join(", ") || "none";
      diag.warn(["alerts", i, "filter", key], `no VRRP ${key === "group" ? "sync group" : "instance"} named "${name}" (configured: ${list})`);
    }
  });
}

export const alertsSection: ConfigSection<{ alerts: AlertRule[] }> = {
  name: "alerts",
  keys: { alerts: z.array(alertSchema).optional() },
  entries: { alerts: { kind: "list", entry: alertSchema } },
  normalize(ctx, diag) {
    const notifiers = Object.keys((ctx.input.notify ?? {}) as object);
    const names = new Set<string>();
    const alerts = ((ctx.input.alerts ?? []) as (AlertInput | undefined)[]).flatMap((a, i) => {
      if (a === undefined) return []; // failed its schema, already reported
      if (names.has(a.name)) diag.error(["alerts", i, "name"], `alert "${a.name}" is defined twice`);
      names.add(a.name);
      return [ruleOf(a, i, ctx, notifiers, diag)];
    });
    return { alerts };
  },
  check(config, ctx, diag) {
    const rules = (ctx.input.alerts ?? []) as (AlertInput | undefined)[];
    checkProxyNames(rules, config, diag);
    checkVrrpNames(rules, config, diag);
  },
};
