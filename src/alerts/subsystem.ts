// The alerts subsystem: event rules and scheduled checks, turned into messages for ctx.services.notify.

import type { BaseConfig } from "../config/types.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { EventName } from "../core/events.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import type { OutgoingMessage } from "../notify/message.ts";
import type { VrrpSectionConfig } from "../vrrp/config.ts";
import type { AlertRule } from "./config.ts";
import { type AlertAction, type AlertPolicy, type AlertState, initialAlertState, stepAlert } from "./alert_state.ts";
import { type CheckEnv, type CheckResult, checkVip, describeCheck, runCheck } from "./checks.ts";
import { addEvent, flushGroup, type GroupAction, type GroupItem, type GroupState, initialGroupState } from "./event_group.ts";
import { ALERT_EVENTS, isAlertEvent, matchesFilter, PAIR_SCOPED, viewEvent } from "./event_map.ts";
import type {} from "../pair/subsystem.ts";
import { describeSchedule, JobTimer, MAX_TIMER_MS, parseSchedule } from "./schedule.ts";
import { eventSubject, formatTime, jobSubject, render, type TemplateVars } from "./template.ts";

/** What the alerts subsystem reads of the resolved config (the VIPs name the messages). */
export type AlertsSubsystemConfig = BaseConfig & { alerts: AlertRule[]; vrrp?: { instances: Pick<VrrpSectionConfig["instances"][number], "virtualIps">[] } };

/** What the alerts subsystem offers the others (ctx.services.alerts). */
export interface AlertsService {
  status(): { rules: RuleStatus[] };
}

declare module "../core/subsystem.ts" {
  interface Services {
    alerts?: AlertsService;
  }
}

/** Per-rule status for ctx.services.alerts.status(). */
export interface RuleStatus {
  name: string;
  kind: "event" | "job";
  active: boolean;
  inactiveReason?: string;
  on?: string;
  schedule?: string;
  check?: string;
  state?: string;
  flapping?: boolean;
  lastRunAt?: string;
  lastResult?: string;
  nextRunAt?: string;
  runs?: number;
  skippedRuns?: number;
  sent: number;
  suppressed: number;
  /** Messages about the pair this host left to the VIP holder (src/pair/alert_sender.ts). */
  leftToPeer: number;
  lastSentAt?: string;
}

interface Runtime {
  rule: AlertRule;
  key: string;
  active: boolean;
  inactiveReason?: string;
  sent: number;
  suppressedTotal: number;
  leftToPeer: number;
  lastSentAt?: number;
  // scheduled check
  timer?: JobTimer;
  alert?: AlertState;
  lastResult?: CheckResult & { at: number };
  // event rule
  unsubscribe?: () => void;
  group?: GroupState;
  flushTimer?: TimerHandle;
}

const STATE_WORD: Record<AlertAction["kind"], string> = { fail: "FAILED", resolved: "RESOLVED", repeat: "STILL FAILING", flapping: "FLAPPING" };

/** Runs fn at monotonic time `at`, in timers no longer than MAX_TIMER_MS. */
function armAt(clock: Clock, at: number, fn: () => void): TimerHandle {
  let handle: TimerHandle;
  const arm = () => {
    const wait = at - clock.now();
    if (wait <= 0) return fn();
    handle = clock.setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
  };
  handle = clock.setTimeout(arm, Math.min(Math.max(at - clock.now(), 0), MAX_TIMER_MS));
  return { cancel: () => handle.cancel() };
}

function policyOf(rule: AlertRule): AlertPolicy {
  return { repeat: rule.repeat, rateLimit: rule.rateLimit, flap: rule.flap };
}

/**
 * Creates the alerts subsystem. Fills ctx.services.alerts; sends through ctx.services.notify
 * (create the notify subsystem first). `env` lets tests inject the interface list.
 */
export function createAlertsSubsystem(ctx: SubsystemContext<AlertsSubsystemConfig>, env: Partial<CheckEnv> = {}): Subsystem<AlertsSubsystemConfig> {
  const log = ctx.log.child("alerts");
  const { clock, bus } = ctx;
  let config = ctx.config;
  let rules = new Map<string, Runtime>();
  let started = false;
  const checkEnv: CheckEnv = { services: ctx.services, ...env };

  const baseVars = (rule: AlertRule): TemplateVars => ({
    host: config.global.hostname,
    role: config.role,
    rule: rule.name,
    time: formatTime(clock.wallNow(), rule.timezone),
    vip: (config.vrrp?.instances ?? []).flatMap((i) => i.virtualIps.map((v) => v.cidr.address)).join(", "),
  });

  const send = (rt: Runtime, message: OutgoingMessage) => {
    // An alert both hosts see alike is sent once, by the host that holds the VIP.
    const sender = rt.rule.on !== undefined && PAIR_SCOPED.has(rt.rule.on as keyof typeof ALERT_EVENTS) ? ctx.services.pair?.alertSender() : undefined;
    if (sender && !sender.send) {
      rt.leftToPeer++;
      log.info("alert left to the peer", { rule: rt.rule.name, subject: message.subject, why: sender.why });
      return;
    }
    rt.sent++;
    rt.lastSentAt = clock.wallNow();
    const notify = ctx.services.notify;
    if (!notify) {
      log.error("cannot send alert: no notify subsystem", { rule: rt.rule.name, subject: message.subject });
      return;
    }
    for (const name of rt.rule.notify) {
      notify.send(name, message).then(
        (id) => log.info("alert queued", { rule: rt.rule.name, notifier: name, id, subject: message.subject }),
        (err) => log.error("cannot queue alert", { rule: rt.rule.name, notifier: name, reason: describeError(err) }),
      );
    }
  };

  // --- scheduled checks -------------------------------------------------------------------------

  const jobMessage = (rt: Runtime, action: AlertAction, result: CheckResult): OutgoingMessage => {
    const rule = rt.rule;
    const check = rule.check!;
    const ss = "server_state" in check ? check.server_state : undefined;
    const vars: TemplateVars = {
      ...baseVars(rule),
      state: STATE_WORD[action.kind],
      event: "schedule",
      output: result.output ?? result.summary,
      ...(checkVip(check) ? { vip: checkVip(check) } : {}),
      ...(ss ? { proxy: ss.proxy, server: ss.server } : {}),
    };
    const intro = rule.message
      ? render(rule.message, vars)
      : render(`Check "{rule}" ${action.kind === "resolved" ? "passes again" : action.kind === "flapping" ? "is flapping" : "fails"} on {host} ({role}).`, vars);
    const lines = [
      action.kind === "resolved" ? `RESOLVED — this alert no longer applies:\n${intro}` : action.kind === "flapping" ? `FLAPPING — alerts for this check are paused until it settles:\n${intro}` : intro,
      "",
      `rule:      ${rule.name}`,
      `host:      ${vars.host} (${vars.role})`,
      `state:     ${vars.state}`,
      `time:      ${vars.time}`,
      `check:     ${describeCheck(check)}`,
      `result:    ${result.summary}`,
    ];
    if (result.exitCode !== undefined) lines.push(`exit code: ${result.exitCode ?? "none (killed)"}`);
    if (result.output) lines.push("output:", result.output);
    if (action.suppressed > 0) lines.push("", `${action.suppressed} earlier message(s) for this rule were held back by its rate limit.`);
    return { subject: jobSubject(rule.subject, action.kind, vars), text: lines.join("\n") + "\n", source: rule.name };
  };

  const runJob = async (rt: Runtime) => {
    const rule = rt.rule;
    const result = await runCheck(rule.check!, checkEnv);
    if (rules.get(rule.name) !== rt) return;
    rt.lastResult = { ...result, at: clock.wallNow() };
    const before = rt.alert!.status;
    const heldBefore = rt.alert!.suppressed;
    const { state, actions } = stepAlert(rt.alert!, { ok: result.ok }, clock.now(), policyOf(rule));
    rt.alert = state;
    log.debug("check ran", { rule: rule.name, ok: result.ok, summary: result.summary, ms: result.durationMs });
    if (state.status !== before) {
      if (state.status === "failing") bus.emit("job.failed", { job: rule.name, reason: result.summary });
      else if (before === "failing") bus.emit("job.ok", { job: rule.name });
    }
    for (const action of actions) send(rt, jobMessage(rt, action, result));
    if (state.suppressed > heldBefore) {
      rt.suppressedTotal += state.suppressed - heldBefore;
      log.warn("alert held back by rate limit", { rule: rule.name, held: state.suppressed });
    }
  };

  // --- event rules ------------------------------------------------------------------------------

  const eventMessage = (rt: Runtime, items: GroupItem[], suppressed: number): OutgoingMessage => {
    const rule = rt.rule;
    const total = items.reduce((n, i) => n + i.count, 0);
    const first = { ...baseVars(rule), ...items[0].vars };
    const body: string[] = [];
    for (const item of items) {
      // item.at is on the monotonic clock; the message shows wall time.
      const vars = { ...baseVars(rule), ...item.vars, time: formatTime(clock.wallNow() - (clock.now() - item.at), rule.timezone) };
      const text = rule.message ? render(rule.message, vars) : `${vars.time}  ${item.line}`;
      body.push(item.count > 1 ? `${text}  (×${item.count})` : text);
    }
    body.push("", `rule: ${rule.name}`, `host: ${first.host} (${first.role})`);
    if (suppressed > 0) body.push("", `${suppressed} earlier event(s) for this rule were held back by its rate limit.`);
    return { subject: eventSubject(rule.subject, first, total - 1), text: body.join("\n") + "\n", source: rule.name };
  };

  const applyGroup = (rt: Runtime, result: { state: GroupState; actions: GroupAction[] }) => {
    rt.group = result.state;
    for (const a of result.actions) {
      if (a.kind === "flush_at") {
        rt.flushTimer?.cancel();
        rt.flushTimer = armAt(clock, a.at, () => {
          rt.flushTimer = undefined;
          if (rules.get(rt.rule.name) === rt) applyGroup(rt, flushGroup(rt.group!, clock.now(), rt.rule));
        });
      } else if (a.kind === "send") {
        send(rt, eventMessage(rt, a.items, a.suppressed));
      } else {
        rt.suppressedTotal += a.items.length;
        log.warn("alert held back by rate limit", { rule: rt.rule.name, events: a.items.map((i) => i.line).join(" | ") });
      }
    }
  };

  const subscribe = (rt: Runtime, eventName: EventName) =>
    bus.on(eventName, (data) => {
      const view = viewEvent(eventName, data);
      if (!matchesFilter(rt.rule.filter, view)) return;
      const vars = { ...view.vars, event: rt.rule.on! } as Record<string, string>;
      applyGroup(rt, addEvent(rt.group!, { line: view.line, vars }, clock.now(), rt.rule));
    });

  // --- lifecycle --------------------------------------------------------------------------------

  const build = (rule: AlertRule, previous?: Runtime): Runtime => {
    const key = JSON.stringify(rule);
    const rt: Runtime = { rule, key, active: true, sent: previous?.sent ?? 0, suppressedTotal: previous?.suppressedTotal ?? 0, leftToPeer: previous?.leftToPeer ?? 0, lastSentAt: previous?.lastSentAt };
    if (rule.roles && rule.roles.length > 0 && !rule.roles.includes(config.role)) {
      rt.active = false;
      rt.inactiveReason = `only for role ${rule.roles.join("/")}`;
      return rt;
    }
    const same = previous && previous.key === key;
    if (rule.on !== undefined) {
      if (!isAlertEvent(rule.on)) {
        rt.active = false;
        rt.inactiveReason = `unknown event "${rule.on}"`;
        log.error("alert rule ignored: unknown event", { rule: rule.name, on: rule.on, known: Object.keys(ALERT_EVENTS).join(",") });
        return rt;
      }
      rt.group = same && previous.group ? previous.group : initialGroupState();
      return rt;
    }
    if (rule.schedule !== undefined && rule.check) {
      try {
        const schedule = parseSchedule(rule.schedule, rule.timezone);
        rt.alert = same && previous.alert ? previous.alert : initialAlertState(clock.now());
        rt.lastResult = same ? previous.lastResult : undefined;
        rt.timer = new JobTimer(schedule, clock, () => runJob(rt), () => log.warn("run skipped: the previous run is still busy", { rule: rule.name }));
      } catch (err) {
        rt.active = false;
        rt.inactiveReason = describeError(err);
        log.error("alert rule ignored", { rule: rule.name, reason: describeError(err) });
      }
      return rt;
    }
    rt.active = false;
    rt.inactiveReason = "neither `on:` nor `schedule:` with a `check:`";
    return rt;
  };

  const activate = (rt: Runtime) => {
    if (!rt.active) return;
    if (rt.rule.on !== undefined) rt.unsubscribe = subscribe(rt, ALERT_EVENTS[rt.rule.on as keyof typeof ALERT_EVENTS]);
    rt.timer?.start();
  };

  const deactivate = async (rt: Runtime, flush: boolean) => {
    rt.unsubscribe?.();
    rt.unsubscribe = undefined;
    rt.flushTimer?.cancel();
    rt.flushTimer = undefined;
    if (flush && rt.group?.open) applyGroup(rt, flushGroup(rt.group, clock.now(), rt.rule));
    await rt.timer?.stop();
  };

  const statusOf = (rt: Runtime): RuleStatus => {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const r = rt.rule;
    let schedule: string | undefined;
    if (r.schedule !== undefined) {
      try {
        schedule = describeSchedule(parseSchedule(r.schedule, r.timezone));
      } catch {
        schedule = r.schedule;
      }
    }
    return {
      name: r.name,
      kind: r.on !== undefined ? "event" : "job",
      active: rt.active,
      inactiveReason: rt.inactiveReason,
      on: r.on,
      schedule,
      check: r.check ? describeCheck(r.check) : undefined,
      state: rt.alert?.status,
      flapping: rt.alert?.flapping,
      lastRunAt: iso(rt.lastResult?.at),
      lastResult: rt.lastResult?.summary,
      nextRunAt: iso(rt.timer?.nextRunAt()),
      runs: rt.timer?.runs,
      skippedRuns: rt.timer?.skipped,
      sent: rt.sent,
      suppressed: rt.suppressedTotal,
      leftToPeer: rt.leftToPeer,
      lastSentAt: iso(rt.lastSentAt),
    };
  };

  for (const rule of config.alerts) rules.set(rule.name, build(rule));
  ctx.services.alerts = { status: () => ({ rules: [...rules.values()].map(statusOf) }) };

  return {
    name: "alerts",
    async start() {
      started = true;
      for (const rt of rules.values()) activate(rt);
      const active = [...rules.values()].filter((r) => r.active).map((r) => r.rule.name);
      log.info("alert rules active", { role: config.role, rules: active.join(",") || "none" });
    },
    async reload(next: AlertsSubsystemConfig) {
      config = next;
      const old = rules;
      rules = new Map();
      for (const rt of old.values()) await deactivate(rt, true);
      for (const rule of next.alerts) rules.set(rule.name, build(rule, old.get(rule.name)));
      if (started) for (const rt of rules.values()) activate(rt);
    },
    async stop(reason: string) {
      started = false;
      for (const rt of rules.values()) await deactivate(rt, true);
      log.info("alerts stopped", { reason });
    },
  };
}
