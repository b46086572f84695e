// Structured log lines on stderr: level, subsystem, message and fields, as text or JSON.

export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export type LogFields = Record<string, unknown>;

/** A logger bound to one subsystem. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger for a sub-part: "proxy" → "proxy.health". */
  child(subsystem: string): Logger;
  /** Whether a line at this level would be written (to skip gathering fields for nothing). */
  enabled?(level: LogLevel): boolean;
}

export interface LogOptions {
  level?: LogLevel;
  format?: "text" | "json";
  write?: (line: string) => void;
  wallNow?: () => number;
}

function quote(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s);
}

/** Creates the root logger. */
export function createLogger(subsystem: string, options: LogOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const format = options.format ?? "text";
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const wallNow = options.wallNow ?? Date.now;
  const make = (sub: string): Logger => {
    const log = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const time = new Date(wallNow()).toISOString();
      if (format === "json") {
        write(JSON.stringify({ time, level, subsystem: sub, msg, ...fields }));
      } else {
        const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${quote(v)}`).join("") : "";
        write(`${time} ${level.toUpperCase().padEnd(5)} [${sub}] ${msg}${extra}`);
      }
    };
    return {
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      child: (name) => make(`${sub}.${name}`),
      enabled: (level) => LOG_LEVELS.indexOf(level) >= min,
    };
  };
  return make(subsystem);
}

/** A logger that drops everything (tests). */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => nullLogger,
  enabled: () => false,
};
