// Default values, in one place so docs/config.md and the code agree.

export const DEFAULTS = {
  maxconn: 10_000,
  stateDir: "/var/lib/tandem",
  gracePeriod: 10_000,
  timeout: { connect: 5_000, client: 30_000, server: 30_000, httpRequest: 10_000, httpKeepAlive: 10_000 },
  retries: 3,
  check: { interval: 2_000, rise: 2, fall: 3, method: "GET", path: "/", expect: { min: 200, max: 399 } },
  stick: { size: 100 * 1024, expire: 30 * 60_000 },
  limits: { requestLine: 8192, headerBytes: 16384, headerCount: 100, drainBody: 1024 * 1024 },
  stats: { uri: "/", refresh: 5_000 },
  vrrp: {
    name: "VI_1",
    version: 2 as const,
    advertInterval: 1_000,
    notifyTimeout: 10_000,
    garp: { count: 5, interval: 0, repeatDelay: 5_000, repeatCount: 5 },
    script: { interval: 2_000, timeout: 2_000, rise: 1, fall: 1 },
  },
  email: { port: 25, security: "opportunistic" as const, connectTimeout: 30_000 },
  webhookTimeout: 10_000,
  retry: { initial: 10_000, max: 600_000, maxAge: 2 * 86_400_000 },
  alert: { groupWindow: 3_000, flapWindow: 600_000, flapThreshold: 6, checkTimeout: 10_000 },
} as const;
