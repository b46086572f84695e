// Built-in checks for scheduled alert jobs: VIP held, server state, TCP connect, HTTP GET, shell command.

import { spawn } from "node:child_process";
import { connect } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import type { AlertCheck } from "./config.ts";
import { parseHostPort } from "../core/address.ts";
import { describeError } from "../core/errors.ts";
import type { Services } from "../core/subsystem.ts";

/** The outcome of one check run. */
export interface CheckResult {
  ok: boolean;
  /** One line saying what was found. */
  summary: string;
  /** command: its stdout (and stderr), trimmed to OUTPUT_LIMIT. */
  output?: string;
  /** command: exit code, or null when killed. */
  exitCode?: number | null;
  durationMs: number;
}

export interface CheckEnv {
  services: Services;
  /** Injected for tests; default os.networkInterfaces. */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** Most output bytes kept from a command (stdout, then stderr). */
export const OUTPUT_LIMIT = 16 * 1024;

/** "vip_held 192.168.8.248", "command ./check.sh" — for messages and status. */
export function describeCheck(check: AlertCheck): string {
  if ("vip_held" in check) return `vip_held ${check.vip_held}`;
  if ("vip_not_held" in check) return `vip_not_held ${check.vip_not_held}`;
  if ("server_state" in check) return `server_state ${check.server_state.proxy}/${check.server_state.server} is ${check.server_state.state}`;
  if ("tcp_connect" in check) return `tcp_connect ${check.tcp_connect}`;
  if ("http_get" in check) return `http_get ${check.http_get} expect ${check.expect.min}-${check.expect.max}`;
  return `command ${check.command}`;
}

/** The VIP a check is about, if any (for {vip}). */
export function checkVip(check: AlertCheck): string | undefined {
  if ("vip_held" in check) return check.vip_held;
  if ("vip_not_held" in check) return check.vip_not_held;
  return undefined;
}

/** True when one of this host's interfaces carries the address ("192.168.8.248" or ".../24"). */
export function hostHolds(address: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const want = address.split("/")[0].trim().toLowerCase();
  for (const [name, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) if (a.address.toLowerCase() === want) return name;
  }
  return undefined;
}

/** Runs a check; never throws (a failure to run is a failed check with the reason). */
export async function runCheck(check: AlertCheck, env: CheckEnv): Promise<CheckResult> {
  const started = performance.now();
  const done = (r: Omit<CheckResult, "durationMs">): CheckResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  try {
    if ("vip_held" in check || "vip_not_held" in check) {
      const vip = "vip_held" in check ? check.vip_held : check.vip_not_held;
      const dev = hostHolds(vip, (env.interfaces ?? networkInterfaces)());
      const held = dev !== undefined;
      const summary = held ? `${vip} is held by this host (on ${dev})` : `${vip} is not on any interface of this host`;
      return done({ ok: "vip_held" in check ? held : !held, summary });
    }
    if ("server_state" in check) {
      const { proxy, server, state } = check.server_state;
      if (!env.services.proxy) return done({ ok: false, summary: `cannot read ${proxy}/${server}: the proxy is not running` });
      const actual = env.services.proxy.serverState(proxy, server);
      if (actual === undefined) return done({ ok: false, summary: `server ${proxy}/${server} is not configured` });
      return done({ ok: actual === state, summary: `server ${proxy}/${server} is ${actual} (expected ${state})` });
    }
    if ("tcp_connect" in check) return done(await tcpConnect(check.tcp_connect, check.timeout));
    if ("http_get" in check) return done(await httpGet(check.http_get, check.expect, check.timeout));
    return done(await runCommand(check.command, check.timeout));
  } catch (err) {
    return done({ ok: false, summary: `check failed to run: ${describeError(err)}` });
  }
}

function tcpConnect(target: string, timeout: number): Promise<Omit<CheckResult, "durationMs">> {
  const { host, port } = parseHostPort(target);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout });
    const finish = (ok: boolean, summary: string) => {
      socket.destroy();
      resolve({ ok, summary });
    };
    socket.once("connect", () => finish(true, `connected to ${target}`));
    socket.once("timeout", () => finish(false, `cannot connect to ${target}: timed out after ${timeout} ms`));
    socket.once("error", (err: NodeJS.ErrnoException) => finish(false, `cannot connect to ${target}: ${err.code ?? err.message}`));
  });
}

async function httpGet(url: string, expect: { min: number; max: number }, timeout: number): Promise<Omit<CheckResult, "durationMs">> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout), redirect: "manual" });
    const body = (await res.text()).slice(0, 2048);
    const ok = res.status >= expect.min && res.status <= expect.max;
    return { ok, summary: `GET ${url} answered ${res.status}${ok ? "" : ` (expected ${expect.min}-${expect.max})`}`, output: ok ? undefined : body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === "TimeoutError" ? `timed out after ${timeout} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, summary: `GET ${url} failed: ${why}` };
  }
}

/** Runs `sh -c command` in its own process group; kills the whole group on timeout. */
export function runCommand(command: string, timeout: number): Promise<Omit<CheckResult, "durationMs">> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const take = (acc: string, chunk: Buffer) => (acc.length < OUTPUT_LIMIT ? (acc + chunk.toString("utf8")).slice(0, OUTPUT_LIMIT) : acc);
    child.stdout.on("data", (c: Buffer) => (stdout = take(stdout, c)));
    child.stderr.on("data", (c: Buffer) => (stderr = take(stderr, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeout);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, summary: `cannot run "${command}": ${err.message}`, exitCode: null });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const out = [stdout.trimEnd(), stderr.trimEnd() ? `stderr:\n${stderr.trimEnd()}` : ""].filter(Boolean).join("\n");
      const summary = timedOut
        ? `command timed out after ${timeout} ms and was killed`
        : code === 0
          ? "command exited 0"
          : code === null
            ? `command killed by ${signal}`
            : `command exited ${code}`;
      resolve({ ok: !timedOut && code === 0, summary, output: out || undefined, exitCode: timedOut ? null : code });
    });
  });
}
