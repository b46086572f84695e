// A pure sliding-window rate limit: at most `count` messages per `per` milliseconds.

/** Send times inside the current window. */
export interface RateState {
  sent: number[];
}

export interface RateLimit {
  count: number;
  per: number;
}

export const emptyRate: RateState = { sent: [] };

/**
 * Asks to send one message at `now`. Returns the new state and whether it is allowed; an allowed
 * send is recorded. Without a limit everything is allowed.
 */
export function rateAllow(state: RateState, now: number, limit: RateLimit | undefined): { state: RateState; allowed: boolean } {
  if (!limit || limit.count <= 0) return { state, allowed: true };
  const sent = state.sent.filter((t) => now - t < limit.per);
  if (sent.length >= limit.count) return { state: { sent }, allowed: false };
  return { state: { sent: [...sent, now] }, allowed: true };
}
