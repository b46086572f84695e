// Error classes with a stable `code` and a `cause`, so callers can act on them.

/** Base class of every error tandem raises on purpose. */
export class TandemError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TandemError";
    this.code = code;
  }
}

/** Exit codes, documented in docs/operations.md. */
export const EXIT = { ok: 0, config: 1, usage: 2, runtime: 3 } as const;

/** A wrong command line: exit 2. */
export class UsageError extends TandemError {
  constructor(message: string) {
    super("E_USAGE", message);
    this.name = "UsageError";
  }
}

/** Renders any thrown value as "message: cause message" for a log line. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
