// `tandem ctl reload --pair`: validate the file on both hosts, reload the host without the VIP
// first, wait until it is healthy with the new configuration, then reload the other. Any error
// stops the rollout and says on which host and at which step; the host not reached yet keeps its
// running configuration.

import type { Clock } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { ReloadOutcome, ValidateOutcome } from "../core/subsystem.ts";
import { shortHash } from "./fingerprint.ts";
import type { PeerState, ResponseMessage } from "./messages.ts";

/** What the rollout needs from the pair subsystem and the daemon. */
export interface StagedReloadDeps {
  clock: Clock;
  /** How long to wait for a host to be healthy after its reload (ms). */
  timeout: number;
  self: { name: string; role: string };
  linkUp(): boolean;
  peer(): PeerState | undefined;
  validateLocal(): Promise<ValidateOutcome>;
  reloadLocal(): Promise<ReloadOutcome>;
  /** The new configuration's hash from a validated config (its pair fingerprint). */
  hashOf(config: unknown): string | undefined;
  localHealth(): { ok: boolean; reason: string };
  localHoldsVip(): boolean;
  /** Asks the peer; rejects when the link goes down or no answer comes within timeout. */
  request(op: "validate" | "reload", timeout: number): Promise<ResponseMessage>;
  /** A mark in the stream of the peer's states (see waitPeer). */
  peerMark(): number;
  /** Waits for a state of the peer received after mark to satisfy pred (also across a reconnect); undefined after timeout. */
  waitPeer(pred: (s: PeerState) => boolean, timeout: number, mark: number): Promise<PeerState | undefined>;
}

export interface StagedReloadResult {
  ok: boolean;
  lines: string[];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Runs the rollout; never throws (a failure is a result with ok false and the reason). */
export async function stagedReload(d: StagedReloadDeps): Promise<StagedReloadResult> {
  const lines: string[] = [];
  const fail = (why: string): StagedReloadResult => ({ ok: false, lines: [...lines, `stopped: ${why}`] });
  const peer = d.peer();
  if (!d.linkUp() || !peer) return fail("the pair link is down, the peer cannot be reached: reload each host with tandem ctl reload, or bring the link up first");
  const me = `${d.self.name} (${d.self.role})`;
  const them = `${peer.hostname} (${peer.role})`;

  // 1. Validate on both hosts, at once.
  const [local, remote] = await Promise.all([
    d.validateLocal(),
    d.request("validate", d.timeout).catch((err): ResponseMessage => ({ id: 0, ok: false, errors: [`no answer: ${describeError(err)}`] })),
  ]);
  const report = (who: string, ok: boolean, errors: string[]) => lines.push(ok ? `validate ${who}: ok` : `validate ${who}: ${errors.length} error(s)\n${errors.map((e) => e.replace(/^/gm, "  ")).join("\n")}`);
  report(me, local.valid, local.errors);
  report(them, remote.ok, remote.errors);
  if (!local.valid || !remote.ok) return fail(`the file does not validate on ${[!local.valid ? me : "", !remote.ok ? them : ""].filter(Boolean).join(" and ")}; nothing was reloaded`);
  const hash = d.hashOf(local.config);
  if (hash && remote.hash && hash !== remote.hash) {
    return fail(`the new files differ between the hosts (${d.self.name} ${shortHash(hash)}, ${peer.hostname} ${shortHash(remote.hash)}): copy the same file to both; nothing was reloaded`);
  }

  // 2. The host without the VIP goes first (both or neither: the backup role).
  const weHold = d.localHoldsVip();
  const theyHold = peer.vrrp.some((i) => i.state === "master");
  const peerFirst = weHold !== theyHold ? weHold : d.self.role === "master";
  const reloadPeer = async (): Promise<string | undefined> => {
    const started = d.clock.now();
    // Only what the peer says after it was asked counts (its state before may look healthy already).
    const mark = d.peerMark();
    let answer: ResponseMessage | undefined;
    try {
      answer = await d.request("reload", d.timeout);
    } catch {
      // The peer's reload may restart the link itself (its pair settings changed): its state says.
    }
    if (answer && !answer.ok) return `reload failed on ${them}:\n${answer.errors.map((e) => `  ${e}`).join("\n")}`;
    const left = Math.max(1000, d.timeout - (d.clock.now() - started));
    const healthy = await d.waitPeer((s) => (!hash || s.config.hash === hash) && s.healthy.ok, left, mark);
    if (!healthy) {
      const s = d.peer();
      const why = !s ? "the pair link did not come back" : hash && s.config.hash !== hash ? `it runs ${shortHash(s.config.hash)}, not the new ${shortHash(hash)}` : s.healthy.reason;
      return `${them} is not healthy ${secs(d.timeout)} after its reload: ${why}`;
    }
    lines.push(`reload ${them}: applied, healthy after ${secs(d.clock.now() - started)}: ${healthy.healthy.reason}`);
    return undefined;
  };
  const reloadSelf = async (): Promise<string | undefined> => {
    const started = d.clock.now();
    const out = await d.reloadLocal();
    if (!out.applied) return `reload failed on ${me}:\n${out.errors.map((e) => `  ${e}`).join("\n")}`;
    const deadline = started + d.timeout;
    let h = d.localHealth();
    while (!h.ok && d.clock.now() < deadline) {
      await new Promise<void>((resolve) => d.clock.setTimeout(resolve, 100));
      h = d.localHealth();
    }
    if (!h.ok) return `${me} is not healthy ${secs(d.timeout)} after its reload: ${h.reason}`;
    lines.push(`reload ${me}: applied, healthy after ${secs(d.clock.now() - started)}: ${h.reason}`);
    return undefined;
  };

  const [first, second] = peerFirst ? [reloadPeer, reloadSelf] : [reloadSelf, reloadPeer];
  const [firstName, secondName] = peerFirst ? [them, me] : [me, them];
  const why = weHold !== theyHold ? "it does not hold the VIP" : `${weHold ? "both" : "neither"} hold a VIP: the backup role first`;
  lines.push(`order: ${firstName} first (${why}), then ${secondName}`);
  const e1 = await first();
  if (e1) return fail(`${e1}; ${secondName} was not reloaded and keeps its running configuration`);
  const e2 = await second();
  if (e2) return fail(`${e2}; ${firstName} already runs the new configuration`);
  lines.push(`done: both hosts run configuration ${hash ? shortHash(hash) : "(no fingerprint)"}`);
  return { ok: true, lines };
}
