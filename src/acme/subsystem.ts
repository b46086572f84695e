// The ACME subsystem: orders and renews the acme.certificates on the host that holds the VIP, with backoff.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { BaseConfig } from "../config/types.ts";
import type { TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { Subsystem, SubsystemContext } from "../core/subsystem.ts";
import type { AcmeCertificateConfig, AcmeConfig } from "./config.ts";

/** The part of the config the ACME subsystem reads. */
export type AcmeSubsystemConfig = BaseConfig & { acme?: AcmeConfig; vrrp?: unknown };
import { challenges } from "./challenges.ts";
import { deliverIssued } from "./deliver.ts";
import { describeAcmeError, newKey, orderCertificate } from "./order.ts";
import { acmeAccountKeyFile, acmeCertificateFile, acmeChallengeDir, acmeDir } from "./paths.ts";
import { INITIAL, nextDue, step } from "./renewal.ts";
import type { RenewAction, RenewEvent, RenewState } from "./renewal.ts";

/** The scheduler never sleeps longer than this in one timer (STYLE: re-check the wall clock). */
const MAX_SLEEP = 30_000;

interface Tracked {
  cert: AcmeCertificateConfig;
  state: RenewState;
  /** notAfter (wall ms) of the certificate file, undefined when there is none. */
  notAfter: number | undefined;
  /** The file's stamp when last read, to notice a certificate installed by someone else (the peer). */
  stamp: string;
}

/**
 * Creates the ACME subsystem (undefined-safe: without acme: it does nothing). Every tick reads each
 * certificate's file, and when this host leads (holds the VIP: VRRP master, or no VRRP at all) and
 * a certificate is missing or within renew_before of its end, orders it (src/acme/order.ts). A
 * failure emits acme.failed and waits retry, doubling up to retry_max. An issued certificate goes
 * through deliverIssued (installed, then acme.issued for the pair link). A file that changed under
 * us (copied from the peer) is announced as acme.installed so the proxy serves it.
 */
export function createAcmeSubsystem(ctx: SubsystemContext<AcmeSubsystemConfig>): Subsystem<AcmeSubsystemConfig> {
  const log = ctx.log.child("acme");
  let config: AcmeSubsystemConfig = ctx.config;
  let tracked = new Map<string, Tracked>();
  let timer: TimerHandle | undefined;
  let running = false;
  let ca: string | undefined;
  const unsubscribe: (() => void)[] = [];

  const acme = (): AcmeConfig | undefined => config.acme;
  const leader = (): boolean => {
    if (!config.vrrp) return true;
    // VRRP configured but not running (yet): not the leader. With several instances, the master
    // of the first one (config order) is: one host orders, even when both are master of something.
    return ctx.services.vrrp?.status().instances[0]?.state === "master";
  };

  /** Re-reads a certificate file that changed; `announce`: tell the proxy (a file written by someone else). */
  const readFile = (t: Tracked, announce = true): void => {
    const file = acmeCertificateFile(config.global.stateDir, t.cert.name);
    let stamp = "-";
    try {
      const s = statSync(file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      // no certificate yet
    }
    if (stamp === t.stamp) return;
    const first = t.stamp === "";
    t.stamp = stamp;
    if (stamp === "-") {
      t.notAfter = undefined;
      return;
    }
    try {
      const pem = readFileSync(file, "utf8");
      t.notAfter = new Date(new X509Certificate(pem).validTo).getTime();
      if (!first && announce) ctx.bus.emit("acme.installed", { name: t.cert.name, file, notAfter: new Date(t.notAfter).toISOString() });
    } catch (err) {
      log.error(`Cannot read the certificate of "${t.cert.name}" (${file}): ${describeError(err)}; ordering a new one`);
      t.notAfter = undefined;
    }
  };

  const accountKey = async (): Promise<string> => {
    const file = acmeAccountKeyFile(config.global.stateDir);
    if (existsSync(file)) return readFileSync(file, "utf8");
    const key = await newKey("ecdsa");
    mkdirSync(acmeDir(config.global.stateDir), { recursive: true, mode: 0o700 });
    writeFileSync(file, key, { mode: 0o600 });
    log.info(`ACME account key created: ${file}`);
    return key;
  };

  const apply = (t: Tracked, e: RenewEvent): void => {
    const a = acme();
    if (!a) return;
    const out = step(t.state, e, a);
    t.state = out.state;
    for (const action of out.actions) run(t, action);
  };

  const run = (t: Tracked, action: RenewAction): void => {
    const a = acme()!;
    if (action.type === "report_failure") {
      log.error(`ACME order for "${t.cert.name}" (${t.cert.domains.join(", ")}) failed: ${action.reason}; next try in ${Math.round(action.retryIn / 1000)}s`);
      ctx.bus.emit("acme.failed", { name: t.cert.name, domains: t.cert.domains, reason: action.reason, retryIn: action.retryIn });
      return;
    }
    log.info(`Ordering a certificate for "${t.cert.name}" (${t.cert.domains.join(", ")}) from ${a.directory}`);
    void (async () => {
      try {
        const issued = await orderCertificate(a, t.cert, await accountKey(), challenges, ca);
        if (!running) return;
        deliverIssued(ctx.bus, config.global.stateDir, t.cert.name, t.cert.domains, issued.pem);
        readFile(t, false);
        t.notAfter = issued.notAfter.getTime();
        log.info(`Certificate for "${t.cert.name}" issued, valid until ${issued.notAfter.toISOString()}`);
        apply(t, { type: "issued", now: ctx.clock.wallNow() });
      } catch (err) {
        if (running) apply(t, { type: "failed", now: ctx.clock.wallNow(), reason: describeAcmeError(err) });
      }
      schedule();
    })();
  };

  const tick = (): void => {
    timer = undefined;
    if (!running) return;
    const now = ctx.clock.wallNow();
    const lead = leader();
    for (const t of tracked.values()) {
      readFile(t);
      apply(t, { type: "tick", now, notAfter: t.notAfter, leader: lead });
    }
    schedule();
  };

  const schedule = (): void => {
    if (!running) return;
    timer?.cancel();
    const a = acme();
    const now = ctx.clock.wallNow();
    let next = now + MAX_SLEEP;
    if (a) for (const t of tracked.values()) next = Math.min(next, Math.max(now + 100, nextDue(t.state, t.notAfter, a)));
    timer = ctx.clock.setTimeout(tick, next - now);
  };

  const track = (cfg: AcmeSubsystemConfig): void => {
    const next = new Map<string, Tracked>();
    for (const c of cfg.acme?.certificates ?? []) {
      const old = tracked.get(c.name);
      const same = old && old.cert.domains.join() === c.domains.join() && old.cert.keyType === c.keyType;
      next.set(c.name, same ? { ...old, cert: c } : { cert: c, state: INITIAL, notAfter: undefined, stamp: "" });
    }
    tracked = next;
    const a = cfg.acme;
    ca = undefined;
    if (a?.caFile) {
      try {
        ca = readFileSync(a.caFile, "utf8");
      } catch (err) {
        log.error(`Cannot read acme.ca_file "${a.caFile}": ${describeError(err)}`);
      }
    }
    challenges.useDirectory(a ? acmeChallengeDir(cfg.global.stateDir) : undefined);
  };

  return {
    name: "acme",
    async start() {
      if (!config.acme) return;
      running = true;
      track(config);
      // A new VIP holder looks at once: the certificate may be due while the peer held it.
      unsubscribe.push(ctx.bus.on("vrrp.state", () => tick()));
      tick();
    },
    async reload(next) {
      config = next;
      if (!next.acme) {
        running = false;
        timer?.cancel();
        tracked.clear();
        return;
      }
      track(next);
      if (!running) {
        running = true;
        unsubscribe.push(ctx.bus.on("vrrp.state", () => tick()));
      }
      tick();
    },
    async stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
      for (const u of unsubscribe.splice(0)) u();
    },
  };
}
