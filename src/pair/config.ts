// The `pair` section: the link between the two hosts (key, port, each role's address) and what
// the pair does for them (closing connections on a VIP that leaves). Every resolved config also
// carries the file's fingerprint, so the hosts can compare their configurations.

import { z } from "zod";
import { Diagnostics } from "../config/diagnostics.ts";
import type { ConfigSection } from "../config/section.ts";
import { duration, int } from "../config/schema_types.ts";
import { didYouMean } from "../config/suggest.ts";
import type { Role } from "../config/types.ts";
import { ipFamily } from "../core/address.ts";
import { frontendBinds, writtenBindPath } from "../proxy/config.ts";
import type { ProxyConfig } from "../proxy/config_types.ts";
import { type Fingerprint, fingerprint } from "./fingerprint.ts";

export const PAIR_DEFAULTS = { port: 7400, timeout: 3_000, reloadTimeout: 30_000 } as const;
/** Shorter keys get a warning: the handshake lets a peer try keys offline (docs/operations.md). */
export const MIN_KEY_LENGTH = 16;

/** The link to the other host, resolved for this host's role. */
export interface PairLinkConfig {
  /** The shared secret. Never logged, never part of the fingerprint. */
  key: string;
  port: number;
  self: { role: Role; address: string };
  peer: { role: Role; address: string };
  /** The link is declared down after this long without a record from the peer (ms). */
  timeout: number;
  /** A staged reload waits this long for the first host to be healthy again (ms). */
  reloadTimeout: number;
}

export interface PairConfig {
  /** Absent: no link (the rest still applies to this host). */
  link?: PairLinkConfig;
  /** Close the client connections accepted on a VIP when it leaves this host (default on). */
  closeOnVipLoss: boolean;
  /** The whole file, normalized (src/pair/fingerprint.ts). */
  fingerprint: Fingerprint;
}

const obj = z.strictObject;
const roleSchema = obj({ address: z.string() });

const schema = obj({
  key: z.string().optional(),
  port: int(1, 65535).optional(),
  roles: z.record(z.string(), roleSchema).optional(),
  timeout: duration.optional(),
  reload_timeout: duration.optional(),
  close_on_vip_loss: z.boolean().optional(),
});

type PairInput = z.output<typeof schema>;
const ROLES: readonly Role[] = ["master", "backup"];

/** The link for role, with every problem of its keys reported. */
function resolveLink(p: PairInput, role: Role, firstRole: boolean, diag: Diagnostics): PairLinkConfig | undefined {
  if (p.key === undefined && p.roles === undefined) return undefined;
  if (p.key === undefined) {
    diag.error(["pair"], "pair.roles is set but pair.key is missing: the link needs a shared key", "add key: followed by the same secret on both hosts (openssl rand -base64 32)", true);
    return undefined;
  }
  if (p.roles === undefined) {
    diag.error(["pair"], "pair.key is set but pair.roles is missing: each host needs its address", "add roles: { master: { address: IP }, backup: { address: IP } }", true);
    return undefined;
  }
  if (firstRole) {
    if (p.key.length === 0) diag.error(["pair", "key"], "pair.key is empty");
    else if (p.key.length < MIN_KEY_LENGTH) diag.warn(["pair", "key"], `pair.key has ${p.key.length} characters: a short key can be guessed offline by anyone who reaches the pair port`, "use 32 random characters or more (openssl rand -base64 32)");
    for (const name of Object.keys(p.roles)) {
      if (!(ROLES as string[]).includes(name)) diag.error(["pair", "roles", name], `unknown role "${name}"`, didYouMean(name, ROLES) ?? "roles are master and backup", true);
    }
    for (const r of ROLES) {
      const a = p.roles[r]?.address;
      if (a === undefined) diag.error(["pair", "roles"], `role "${r}" has no address`, `add ${r}: { address: IP } so each host knows where the other is`, true);
      else if (ipFamily(a) === 0) diag.error(["pair", "roles", r, "address"], `"${a}" is not an IP address`);
    }
    const m = p.roles.master?.address;
    if (m !== undefined && m === p.roles.backup?.address) diag.error(["pair", "roles", "backup", "address"], `both roles have the address ${m}`, "each host has its own address");
  }
  const other: Role = role === "master" ? "backup" : "master";
  const self = p.roles[role]?.address;
  const peer = p.roles[other]?.address;
  if (self === undefined || peer === undefined || ipFamily(self) === 0 || ipFamily(peer) === 0) return undefined;
  return {
    key: p.key,
    port: p.port ?? PAIR_DEFAULTS.port,
    self: { role, address: self },
    peer: { role: other, address: peer },
    timeout: p.timeout ?? PAIR_DEFAULTS.timeout,
    reloadTimeout: p.reload_timeout ?? PAIR_DEFAULTS.reloadTimeout,
  };
}

export const pairSection: ConfigSection<{ pair: PairConfig }> = {
  name: "pair",
  keys: { pair: schema.optional() },
  /** Reads the whole input (not only `pair`) for the fingerprint: that is what the hosts compare. */
  normalize(ctx, diag) {
    const p = ctx.input.pair as PairInput | undefined;
    const link = p ? resolveLink(p, ctx.role, ctx.firstRole, diag) : undefined;
    if (link && link.timeout < 500) diag.error(["pair", "timeout"], `pair.timeout ${link.timeout}ms is too short: heartbeats go every second`, "use 3s (the default) or more");
    return { pair: { link, closeOnVipLoss: p?.close_on_vip_loss ?? true, fingerprint: fingerprint(ctx.input) } };
  },
  check(config, ctx, diag) {
    const link = (config.pair as PairConfig | undefined)?.link;
    if (!link) return;
    // The pair port must not be a frontend's (the proxy reports clashes among frontends itself).
    const frontends = (config.frontends ?? []) as ProxyConfig["frontends"];
    const claims = frontendBinds(frontends, new Diagnostics(), writtenBindPath(ctx.input));
    const written = (ctx.input.pair as PairInput).port !== undefined;
    claims.claim("pair", link.self.address, link.port, written ? ["pair", "port"] : ["pair", "roles", ctx.role, "address"], diag);
  },
  roles(input) {
    const p = input.pair as PairInput | undefined;
    return p?.roles ? Object.keys(p.roles) : undefined;
  },
};
