// `--check` for alerts and notifiers: rules, schedules, templates and notifier references, all at once.

import type { AlertRule, NotifierConfig, TandemConfig } from "../config/types.ts";
import { parseHostPort } from "../core/address.ts";
import { isAlertEvent, ALERT_EVENTS } from "./event_map.ts";
import { parseSchedule } from "./schedule.ts";
import { unknownPlaceholders, PLACEHOLDERS } from "./template.ts";

/** One problem, with the path of the offending value in the config (for file:line:col mapping). */
export interface AlertIssue {
  path: (string | number)[];
  message: string;
  severity: "error" | "warning";
}

function list(names: string[]): string {
  return names.map((n) => `"${n}"`).join(", ") || "none";
}

function checkNotifier(n: NotifierConfig, i: number, out: AlertIssue[]): void {
  const at = (...p: (string | number)[]) => ["notify", n.name, ...p];
  const err = (path: (string | number)[], message: string) => out.push({ path, message, severity: "error" });
  if (n.retry.initial <= 0 || n.retry.max < n.retry.initial) err(at("retry"), `retry: initial must be > 0 and max >= initial (got ${n.retry.initial} and ${n.retry.max} ms)`);
  if (n.retry.maxAge < n.retry.initial) err(at("retry", "max_age"), `retry max_age (${n.retry.maxAge} ms) is shorter than the first retry delay`);
  if (n.type === "email") {
    if (n.to.length === 0) err(at("to"), `notifier "${n.name}" has no recipient`);
    if (!n.from.includes("@")) err(at("from"), `"${n.from}" is not an email address`);
    for (const [j, r] of n.to.entries()) if (!r.includes("@")) err(at("to", j), `"${r}" is not an email address`);
    if (n.smtp.port < 1 || n.smtp.port > 65535) err(at("smtp", "port"), `port ${n.smtp.port} is out of range (must be 1..65535)`);
    if (n.smtp.security === "none" && n.smtp.auth) out.push({ path: at("smtp", "auth"), message: `AUTH over an unencrypted connection sends the password in clear (security: none)`, severity: "warning" });
  } else {
    try {
      const u = new URL(n.url);
      if (u.protocol !== "http:" && u.protocol !== "https:") err(at("url"), `"${n.url}" must be an http:// or https:// URL`);
    } catch {
      err(at("url"), `"${n.url}" is not a URL`);
    }
  }
  void i;
}

function checkRule(config: TandemConfig, r: AlertRule, i: number, out: AlertIssue[]): void {
  const at = (...p: (string | number)[]) => ["alerts", i, ...p];
  const err = (path: (string | number)[], message: string) => out.push({ path, message, severity: "error" });
  const notifiers = config.notifiers.map((n) => n.name);
  if (r.notify.length === 0) err(at("notify"), `rule "${r.name}" notifies nobody`);
  for (const [j, name] of r.notify.entries()) {
    if (!notifiers.includes(name)) err(at("notify", j), `unknown notifier "${name}" (configured: ${list(notifiers)})`);
  }
  if ((r.on === undefined) === (r.schedule === undefined)) err(at(), `rule "${r.name}" needs exactly one of "on:" (an event) or "schedule:" (a job)`);
  if (r.on !== undefined && !isAlertEvent(r.on)) err(at("on"), `unknown event "${r.on}" (expected one of: ${Object.keys(ALERT_EVENTS).join(", ")})`);
  if (r.schedule !== undefined) {
    if (!r.check) err(at("check"), `scheduled rule "${r.name}" has no "check:"`);
    try {
      parseSchedule(r.schedule, r.timezone);
    } catch (e) {
      err(at("schedule"), (e as Error).message);
    }
  }
  if (r.on !== undefined && r.check) out.push({ path: at("check"), message: `"check:" is ignored on an event rule`, severity: "warning" });
  const c = r.check;
  if (c && "tcp_connect" in c) {
    try {
      parseHostPort(c.tcp_connect);
    } catch (e) {
      err(at("check", "tcp_connect"), `"${c.tcp_connect}": ${(e as Error).message}`);
    }
  }
  if (c && "http_get" in c) {
    try {
      new URL(c.http_get);
    } catch {
      err(at("check", "http_get"), `"${c.http_get}" is not a URL`);
    }
    if (c.expect.min > c.expect.max) err(at("check", "expect"), `expected status range ${c.expect.min}-${c.expect.max} runs backwards`);
  }
  if (c && "server_state" in c) {
    const known = [...config.backends.map((b) => b.name), ...config.frontends.map((f) => f.name)];
    const backend = config.backends.find((b) => b.name === c.server_state.proxy);
    if (!known.includes(c.server_state.proxy)) err(at("check", "server_state", "proxy"), `unknown proxy "${c.server_state.proxy}" (configured: ${list(known)})`);
    else if (backend && !backend.servers.some((s) => s.name === c.server_state.server)) err(at("check", "server_state", "server"), `proxy "${backend.name}" has no server "${c.server_state.server}" (servers: ${list(backend.servers.map((s) => s.name))})`);
  }
  for (const field of ["subject", "message"] as const) {
    const t = r[field];
    if (t === undefined) continue;
    const bad = unknownPlaceholders(t);
    if (bad.length > 0) out.push({ path: at(field), message: `unknown placeholder ${bad.map((b) => `{${b}}`).join(", ")} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")})`, severity: "warning" });
  }
  if (r.filter.proxy !== undefined) {
    const known = [...config.backends.map((b) => b.name), ...config.frontends.map((f) => f.name)];
    if (!known.includes(r.filter.proxy)) out.push({ path: at("filter", "proxy"), message: `no proxy named "${r.filter.proxy}" (configured: ${list(known)})`, severity: "warning" });
  }
  if (r.rateLimit && (r.rateLimit.count < 1 || r.rateLimit.per <= 0)) err(at("rate_limit"), `rate limit must allow at least 1 message per a positive period`);
}

/**
 * Validates the alert rules and notifiers of a resolved config. Returns every issue found
 * (errors and warnings), never throws.
 */
export function validateAlerts(config: TandemConfig): AlertIssue[] {
  const out: AlertIssue[] = [];
  const seenRules = new Set<string>();
  for (const [i, r] of config.alerts.entries()) {
    if (seenRules.has(r.name)) out.push({ path: ["alerts", i, "name"], message: `duplicate rule name "${r.name}"`, severity: "error" });
    seenRules.add(r.name);
    checkRule(config, r, i, out);
  }
  for (const [i, n] of config.notifiers.entries()) checkNotifier(n, i, out);
  return out;
}
