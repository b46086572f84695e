// A server's weight: one range for the config, the runtime API and the stats page.

/** Weights are 0..MAX_WEIGHT (haproxy's range); 0 takes no new balanced traffic (drain). */
export const MAX_WEIGHT = 256;

/**
 * The problem with a weight given at run time, or undefined when it is valid. A string is what
 * an operator typed (the runtime API): decimal digits only, quoted in the message.
 */
export function weightProblem(weight: number | string): string | undefined {
  const n = typeof weight === "string" ? (/^\d+$/.test(weight) ? Number(weight) : NaN) : weight;
  if (Number.isInteger(n) && n >= 0 && n <= MAX_WEIGHT) return undefined;
  return `Weight ${typeof weight === "string" ? `"${weight}"` : weight} is out of range (must be 0..${MAX_WEIGHT})`;
}
