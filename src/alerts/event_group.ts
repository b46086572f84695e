// Pure grouping for event rules: events inside a window become one message; identical ones collapse.

import { emptyRate, type RateLimit, rateAllow, type RateState } from "./rate_limit.ts";

/** One event as the rule sees it: a line for the message plus its template variables. */
export interface GroupItem {
  line: string;
  vars: Record<string, string>;
  at: number;
  count: number;
}

export interface GroupState {
  open?: { startedAt: number; items: GroupItem[] };
  rate: RateState;
  /** Events held back by the rate limit since the last message. */
  suppressed: number;
}

export interface GroupPolicy {
  /** 0 = one message per event. */
  groupWindow: number;
  rateLimit?: RateLimit;
}

export type GroupAction =
  /** Call flushGroup at this time (caller's clock). */
  | { kind: "flush_at"; at: number }
  | { kind: "send"; items: GroupItem[]; suppressed: number }
  /** The rate limit held these back (for the log). */
  | { kind: "suppressed"; items: GroupItem[] };

export function initialGroupState(): GroupState {
  return { rate: emptyRate, suppressed: 0 };
}

/** Most items kept in one open group; more are counted on the last one. */
const MAX_ITEMS = 100;

/** Adds an event at `now`. Opens a group (asking for a flush at now + window) or sends at once. */
export function addEvent(state: GroupState, item: Omit<GroupItem, "count" | "at">, now: number, policy: GroupPolicy): { state: GroupState; actions: GroupAction[] } {
  const entry: GroupItem = { ...item, at: now, count: 1 };
  if (policy.groupWindow <= 0) return emit({ ...state }, [entry], now, policy);
  if (!state.open) {
    return { state: { ...state, open: { startedAt: now, items: [entry] } }, actions: [{ kind: "flush_at", at: now + policy.groupWindow }] };
  }
  const items = [...state.open.items];
  const same = items.findIndex((i) => i.line === entry.line);
  if (same >= 0) items[same] = { ...items[same], count: items[same].count + 1 };
  else if (items.length < MAX_ITEMS) items.push(entry);
  else items[items.length - 1] = { ...items[items.length - 1], count: items[items.length - 1].count + 1 };
  return { state: { ...state, open: { ...state.open, items } }, actions: [] };
}

/** Closes the open group (its window ended, or the subsystem stops) and sends it. */
export function flushGroup(state: GroupState, now: number, policy: GroupPolicy): { state: GroupState; actions: GroupAction[] } {
  if (!state.open) return { state, actions: [] };
  return emit({ ...state, open: undefined }, state.open.items, now, policy);
}

function emit(s: GroupState, items: GroupItem[], now: number, policy: GroupPolicy): { state: GroupState; actions: GroupAction[] } {
  const r = rateAllow(s.rate, now, policy.rateLimit);
  s.rate = r.state;
  if (!r.allowed) {
    s.suppressed += items.reduce((n, i) => n + i.count, 0);
    return { state: s, actions: [{ kind: "suppressed", items }] };
  }
  const suppressed = s.suppressed;
  s.suppressed = 0;
  return { state: s, actions: [{ kind: "send", items, suppressed }] };
}
