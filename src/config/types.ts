// What every resolved config has, whatever sections it is made of: its file, its role, `global`.
// Each subsystem's own part (proxies, vrrp, alerts...) is typed in that subsystem's config module.

export type Role = "master" | "backup";

export interface GlobalConfig {
  maxconn: number;
  pidfile?: string;
  adminSocket?: { path: string; mode: number };
  /** Worker count for the proxy (default 1; `auto`: one per CPU). */
  workers: number;
  /** Where tandem keeps state that must survive a restart (the alert spool). */
  stateDir: string;
  /** Name used in alerts and logs (default: os.hostname()). */
  hostname: string;
  /** Grace period for a graceful stop. */
  gracePeriod: number;
}

/** The part of a resolved config the loader itself owns. */
export interface BaseConfig {
  /** The file it came from. */
  file: string;
  role: Role;
  global: GlobalConfig;
}
