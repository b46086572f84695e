// A lab to run one haproxy.cfg under haproxy and, imported, under tandem, on loopback: the file's
// addresses and ports rewritten to 127.0.0.1, a recording server per `server` line, the same
// requests sent to both, and what came back (and what the servers received) compared.

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { parseDocument } from "yaml";
import { importConfigs } from "../../src/import/import_configs.ts";
import type { ImportNote } from "../../src/import/notes.ts";
import { SECTION_KEYWORDS, tokenizeHaproxyLine } from "../../src/import/haproxy_cfg.ts";
import { TandemProcess } from "./binary.ts";
import { accepting, freePort } from "./net.ts";

/** Every process the lab started and has not stopped: stopped by stopAll() whatever happens. */
const running = new Set<() => Promise<void>>();

/** Stops whatever is still running (for an after() hook: a failed test leaves nothing behind). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

export const HAPROXY = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].find((p) => existsSync(p) && spawnSync(p, ["-v"]).status === 0);

/** What one server line became: its recorder's port, and its check port when the line had `port N`. */
export interface LabServer {
  section: string;
  name: string;
  port: number;
  checkPort?: number;
}

export interface Rewritten {
  /** What tandem imports: the file with loopback addresses. */
  text: string;
  /** What haproxy 2.6 runs: text with haproxy 1.x keywords it no longer parses written its 2.x way. */
  modern: string;
  /** Original bind item ("*:443", "192.168.1.210:80") → loopback port. */
  binds: Map<string, number>;
  servers: LabServer[];
  /** Original ACL source address → the loopback address the lab sends from instead. */
  sources: Map<string, string>;
}

const GLOBAL_DROP = /^(chroot|user|group|uid|gid|daemon|master-worker|pidfile|log|ulimit-n|nbproc|node)$/;

/**
 * Rewrites cfg for the lab: binds and servers to loopback ports, public ACL sources to 127.0.0.x,
 * certificates to `cert`, missing errorfiles to a file of dir, crt-store references to `cert`,
 * resolvers to loopback; process settings (user, chroot, daemon, log, stats socket, pidfile)
 * dropped and global maxconn capped, none of which decides what a request gets.
 */
export async function rewrite(cfg: string, o: { dir: string; cert: string }): Promise<Rewritten> {
  const binds = new Map<string, number>();
  const servers: LabServer[] = [];
  const sources = new Map<string, string>();
  const out: string[] = [];
  let section = "";
  let sectionName = "";
  const bindPort = async (item: string) => {
    let p = binds.get(item);
    if (p === undefined) binds.set(item, (p = await freePort()));
    return `127.0.0.1:${p}`;
  };
  const rebind = async (list: string) => (await Promise.all(list.split(",").map(bindPort))).join(",");
  for (const raw of cfg.split("\n")) {
    const t = tokenizeHaproxyLine(raw);
    const w = t.words;
    if (w.length === 0) {
      out.push(raw);
      continue;
    }
    const indent = /^\s*/.exec(raw)![0] || "    ";
    if (SECTION_KEYWORDS.has(w[0])) {
      section = w[0];
      sectionName = w[1] ?? "";
      if (section === "crt-store") continue;
      if ((section === "listen" || section === "frontend") && w[2] !== undefined) {
        out.push(`${w[0]} ${w[1]}\n${indent}bind ${await rebind(w[2])}`);
        continue;
      }
      out.push(raw);
      continue;
    }
    if (section === "crt-store") continue;
    if (section === "global") {
      if (GLOBAL_DROP.test(w[0]) || (w[0] === "stats" && w[1] === "socket")) continue;
      if (w[0] === "maxconn") {
        out.push(`${indent}maxconn ${Math.min(Number(w[1]) || 2000, 2000)}`);
        continue;
      }
    }
    if (w[0] === "bind") {
      const rest = w.slice(2).map((x, i, all) => (all[i - 1] === "crt" ? (x.startsWith("@") || !existsSync(x) ? o.cert : x) : x));
      out.push(`${indent}bind ${await rebind(w[1])} ${rest.map(quote).join(" ")}`);
      continue;
    }
    if (w[0] === "server" && w[2] !== undefined) {
      const s: LabServer = { section: sectionName, name: w[1], port: await freePort() };
      const rest = w.slice(3);
      const pi = rest.indexOf("port");
      if (pi >= 0) {
        s.checkPort = await freePort();
        rest[pi + 1] = String(s.checkPort);
      }
      const ai = rest.indexOf("addr");
      if (ai >= 0) rest[ai + 1] = "127.0.0.1";
      servers.push(s);
      out.push(`${indent}server ${w[1]} 127.0.0.1:${s.port} ${rest.map(quote).join(" ")}`);
      continue;
    }
    if (w[0] === "acl" && w[2] === "src") {
      const vals = w.slice(3).map((v) => {
        if (v.startsWith("127.") || !/^\d+\.\d+\.\d+\.\d+$/.test(v)) return v;
        if (!sources.has(v)) sources.set(v, `127.0.0.${100 + sources.size}`);
        return sources.get(v)!;
      });
      out.push(`${indent}acl ${w[1]} src ${vals.join(" ")}`);
      continue;
    }
    if (w[0] === "errorfile" && w[2] && !existsSync(w[2])) {
      const file = join(o.dir, `errorfile-${w[1]}-${servers.length}.http`);
      writeFileSync(file, `HTTP/1.0 ${w[1]} Lab\r\nContent-Type: text/csv\r\nCache-Control: no-cache\r\n\r\nterm,count\r\nsoup,3\r\n`);
      out.push(`${indent}errorfile ${w[1]} ${file}`);
      continue;
    }
    if (w[0] === "nameserver") {
      out.push(`${indent}nameserver ${w[1]} 127.0.0.1:${await freePort()}`);
      continue;
    }
    out.push(raw);
  }
  const text = out.join("\n").replace(/\n*$/, "\n");
  return { text, modern: modernize(text), binds, servers, sources };
}

/** haproxy 2.1 removed contimeout/clitimeout/srvtimeout and rspadd; these are their replacements, as haproxy's own messages say. */
function modernize(text: string): string {
  return text
    .replace(/^(\s*)contimeout\s+/gm, "$1timeout connect ")
    .replace(/^(\s*)clitimeout\s+/gm, "$1timeout client ")
    .replace(/^(\s*)srvtimeout\s+/gm, "$1timeout server ")
    .replace(/^(\s*)rspadd\s+([^:\s]+):\\ (.*)$/gm, (_m, sp: string, name: string, value: string) => `${sp}http-response add-header ${name} "${value.replace(/\\ /g, " ")}"`);
}

/** A word written back into a config line, quoted when it must be. */
function quote(w: string): string {
  return /[\s#"'\\]/.test(w) || w === "" ? JSON.stringify(w) : w;
}

/** What a recording server does with a request path: its status and extra response headers. */
export type Reply = (path: string) => { status?: number; headers?: [string, string][] } | undefined;

/** The request a server received, as compared: method, target, headers (lower-cased names, sorted). */
export interface Received {
  method: string;
  target: string;
  headers: string[];
}

/**
 * A server that answers HTTP with who it is (X-Served-By) and the request it received (JSON), or,
 * when the client says nothing within 100 ms (a TCP client waiting for a banner), writes its name.
 */
export function recorder(id: string, reply: Reply, onRequest?: (r: Received) => void): Server {
  const open = new Set<Socket>();
  const server = createServer((c: Socket) => {
    open.add(c);
    c.on("close", () => open.delete(c));
    c.on("error", () => {});
    let buf = "";
    const banner = setTimeout(() => {
      if (buf === "") c.end(`${id}\n`);
    }, 100);
    c.setEncoding("latin1");
    c.on("data", (d: string) => {
      clearTimeout(banner);
      buf += d;
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = buf.slice(0, end).split("\r\n");
        const [method, target] = lines[0].split(" ");
        const fields = lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
        const length = Number(fields.find(([k]) => k === "content-length")?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        const received: Received = { method, target, headers: fields.map(([k, v]) => `${k}: ${v}`).sort() };
        onRequest?.(received);
        const r = reply(target.split("?")[0]) ?? {};
        const body = JSON.stringify(received);
        const status = r.status ?? 200;
        const head = [`HTTP/1.1 ${status} X`, `Content-Length: ${Buffer.byteLength(body)}`, "Content-Type: application/json", `X-Served-By: ${id}`, ...(r.headers ?? []).map(([k, v]) => `${k}: ${v}`)];
        c.write(head.join("\r\n") + "\r\n\r\n" + body);
      }
    });
  });
  // close() waits for open connections (pooled ones from the proxies): these end them.
  return Object.assign(server, { closeConnections: () => open.forEach((c) => c.destroy()) });
}

/** One request of a scenario. */
export interface LabRequest {
  /** The bind item of the original file it goes to ("*:443"). */
  to: string;
  tls?: boolean;
  method?: string;
  path?: string;
  headers?: string[];
  /** Source address; an original ACL address is replaced by its loopback stand-in. */
  from?: string;
  /** A raw TCP connection that reads one banner line (mode tcp). */
  tcp?: boolean;
  /** Compare which server answered, not only which backend (persistence, deterministic rotation). */
  server?: boolean;
  /** Compare the response body too. */
  body?: boolean;
  /** Sent this many times in a row (rates). */
  repeat?: number;
}

/** What one request got, in the form both runs are compared in. */
export interface Outcome {
  /** "local" (answered by the proxy), "section/server" or "section" (a recorder), or "error: ...". */
  origin: string;
  status: number;
  headers: Record<string, string>;
  request?: Received;
  body?: string;
}

/** Response fields compared (others vary between implementations without meaning: Date, Server...). */
const KEPT = ["location", "set-cookie", "cache-control", "www-authenticate", "strict-transport-security", "x-frame-options", "server", "x-backend-note"];
/** Request fields that belong to the hop, not the request. */
const HOP = new Set(["connection", "keep-alive"]);

/** Sends one request (or connection) and reads the answer. */
export async function send(lab: Rewritten, r: LabRequest): Promise<Outcome> {
  const port = lab.binds.get(r.to);
  if (port === undefined) return { origin: `error: no bind ${r.to} in the file`, status: 0, headers: {} };
  const from = r.from ? lab.sources.get(r.from) ?? r.from : "127.0.0.1";
  const sock: Socket = r.tls ? tlsConnect({ host: "127.0.0.1", port, localAddress: from, servername: headerOf(r, "host")?.split(":")[0] || "lab.example", rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] }) : connect({ host: "127.0.0.1", port, localAddress: from });
  return new Promise((resolve) => {
    let data = "";
    const done = (o: Outcome) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done(r.tcp ? { origin: data.trim() || "error: no banner", status: 0, headers: {} } : parse(data, r) ?? { origin: "error: timeout", status: 0, headers: {} }), r.tcp ? 1500 : 4000);
    sock.setEncoding("latin1");
    sock.on("error", (e) => done({ origin: `error: ${(e as NodeJS.ErrnoException).code ?? e.message}`, status: 0, headers: {} }));
    sock.on("data", (d: string) => {
      data += d;
      if (r.tcp && data.includes("\n")) done({ origin: data.trim(), status: 0, headers: {} });
    });
    sock.on("end", () => done(r.tcp ? { origin: data.trim() || "error: closed", status: 0, headers: {} } : parse(data, r) ?? { origin: "error: closed without a response", status: 0, headers: {} }));
    if (!r.tcp) {
      const headers = r.headers ?? [];
      const host = headers.some((h) => /^host:/i.test(h)) ? [] : [`Host: lab.example`];
      sock.write(`${r.method ?? "GET"} ${r.path ?? "/"} HTTP/1.1\r\n${[...host, ...headers, "Connection: close"].join("\r\n")}\r\n\r\n`);
    }
  });
}

function headerOf(r: LabRequest, name: string): string | undefined {
  const h = r.headers?.find((x) => x.toLowerCase().startsWith(`${name}:`));
  return h?.slice(h.indexOf(":") + 1).trim();
}

function parse(data: string, r: LabRequest): Outcome | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = data.slice(0, end).split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const all = lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
  const headers: Record<string, string> = {};
  for (const [k, v] of all) if (KEPT.includes(k)) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  let body = data.slice(end + 4);
  if (all.some(([k, v]) => k === "transfer-encoding" && /chunked/i.test(v))) body = dechunk(body);
  const served = all.find(([k]) => k === "x-served-by")?.[1];
  const out: Outcome = { origin: served ? (r.server ? served : served.split("/")[0]) : "local", status, headers };
  if (served) {
    try {
      const req = JSON.parse(body) as Received;
      out.request = { ...req, headers: req.headers.filter((h) => !HOP.has(h.slice(0, h.indexOf(":")))) };
    } catch {
      out.body = body;
    }
  } else if (r.body) out.body = body;
  return out;
}

function dechunk(s: string): string {
  let out = "";
  for (let i = 0; i < s.length;) {
    const nl = s.indexOf("\r\n", i);
    const n = parseInt(s.slice(i, nl), 16);
    if (!(n > 0)) break;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
  return out;
}

/** Starts haproxy in the foreground on text; resolves once every bind accepts. */
export async function startHaproxy(lab: Rewritten, dir: string, env: Record<string, string>): Promise<() => Promise<void>> {
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, lab.modern);
  const check = spawnSync(HAPROXY!, ["-c", "-f", file], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  if (check.status !== 0) throw new Error(`haproxy rejects the lab config:\n${check.stdout}${check.stderr}\n${lab.modern}`);
  const child: ChildProcess = spawn(HAPROXY!, ["-db", "-f", file], { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "", ...env } });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  try {
    for (const port of lab.binds.values()) await accepting(port);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}; haproxy said:\n${stderr}`);
  }
  const stop = async () => {
    running.delete(stop);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
  };
  running.add(stop);
  return stop;
}

/** Imports text the way `tandem import` does; the notes say what was refused or not carried. */
export function importLab(text: string): { yaml: string; notes: ImportNote[] } {
  const r = importConfigs({ haproxy: { path: "haproxy.cfg", text }, read: () => undefined });
  return { yaml: r.yaml, notes: r.notes };
}

/** Runs the built binary on yaml (state_dir in dir); resolves once every bind accepts. */
export async function startTandem(lab: Rewritten, yaml: string, dir: string, env: Record<string, string>): Promise<() => Promise<void>> {
  const doc = parseDocument(yaml);
  doc.setIn(["global", "state_dir"], dir);
  const file = join(dir, "tandem.yaml");
  writeFileSync(file, doc.toString());
  const p = new TandemProcess(["--config", file, "--role", "master"], { env });
  const stop = async () => {
    running.delete(stop);
    await p.stop(3000);
  };
  running.add(stop);
  try {
    await p.waitFor(/tandem started/, 15_000);
    for (const port of lab.binds.values()) await accepting(port);
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/** The fields of two outcomes that differ, as "field: haproxy → tandem" lines (empty: the same). */
export function differences(h: Outcome, t: Outcome): string[] {
  const out: string[] = [];
  const cmp = (what: string, a: unknown, b: unknown) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    if (x !== y) out.push(`${what}: ${x} → ${y}`);
  };
  cmp("origin", h.origin, t.origin);
  cmp("status", h.status, t.status);
  for (const k of new Set([...Object.keys(h.headers), ...Object.keys(t.headers)])) cmp(`response ${k}`, h.headers[k], t.headers[k]);
  if (h.request || t.request) {
    cmp("request line", h.request && `${h.request.method} ${h.request.target}`, t.request && `${t.request.method} ${t.request.target}`);
    const a = new Set(h.request?.headers ?? []);
    const b = new Set(t.request?.headers ?? []);
    for (const x of a) if (!b.has(x)) out.push(`request header only with haproxy: ${x}`);
    for (const x of b) if (!a.has(x)) out.push(`request header only with tandem: ${x}`);
  }
  if (h.body !== undefined || t.body !== undefined) cmp("body", h.body, t.body);
  return out;
}
