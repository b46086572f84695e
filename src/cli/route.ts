// `tandem route --config F GET http://host/path -H 'X: y'`: which backend a request would hit, and why.

import { formatDiagnostic } from "../config/diagnostics.ts";
import { describeError, EXIT } from "../core/errors.ts";
import type { FrontendConfig } from "../proxy/config_types.ts";
import { tandemConfig } from "../tandem_config.ts";
import type { TandemConfig } from "../tandem_config.ts";
import { HeadParser, HttpParseError } from "../proxy/http/parser.ts";
import { backendRequest, route } from "../proxy/http/routing.ts";
import type { RequestEnv } from "../proxy/http/request_env.ts";
import { systemClock } from "../core/clock.ts";
import { loadForRole } from "./role.ts";

export const ROUTE_USAGE = `Usage: tandem route --config FILE [--role R] [--frontend NAME] [--src IP] METHOD URL [-H 'Name: value']...
  URL is http://host[:port]/path?query, or /path with a Host given by -H.
  Prints the http_request rules that fired and the backend (or the response) the request gets.`;

interface RouteArgs {
  config?: string;
  role?: string;
  frontend?: string;
  src: string;
  method?: string;
  url?: string;
  headers: string[];
}

function parseArgs(argv: string[]): RouteArgs {
  const a: RouteArgs = { src: "127.0.0.1", headers: [] };
  const rest = argv[0] === "route" ? argv.slice(1) : argv;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = () => inline ?? value();
    if (flag === "--config" || flag === "-c") a.config = take();
    else if (flag === "--role") a.role = take();
    else if (flag === "--frontend") a.frontend = take();
    else if (flag === "--src") a.src = take();
    else if (flag === "-H" || flag === "--header") a.headers.push(take());
    else if (arg.startsWith("-") && arg.length > 1) throw new Error(`unknown option "${arg}"`);
    else if (a.method === undefined) a.method = arg;
    else if (a.url === undefined) a.url = arg;
    else throw new Error(`unexpected argument "${arg}"`);
  }
  if (!a.config) throw new Error("--config is required");
  if (!a.method || !a.url) throw new Error("a METHOD and a URL are required");
  return a;
}

/** The frontend a request is for: --frontend, else an http frontend bound to the URL's port, else the first http one. */
function pickFrontend(config: TandemConfig, name: string | undefined, port: number | undefined): FrontendConfig {
  const http = config.frontends.filter((f) => f.mode === "http");
  if (name !== undefined) {
    const f = config.frontends.find((x) => x.name === name);
    if (!f) throw new Error(`no frontend named "${name}" (frontends: ${config.frontends.map((x) => x.name).join(", ") || "none"})`);
    return f;
  }
  if (http.length === 0) throw new Error("the configuration has no frontend in mode http");
  if (port !== undefined) {
    const byPort = http.find((f) => f.binds.some((b) => b.ports.includes(port)));
    if (byPort) return byPort;
  }
  return http[0];
}

/** Builds the request head text from METHOD, URL and -H values. */
function requestText(method: string, url: string, headers: string[]): { text: string; port?: number } {
  let target = url;
  let host: string | undefined;
  let port: number | undefined;
  const m = /^https?:\/\/([^/?#]+)(.*)$/i.exec(url);
  if (m) {
    host = m[1];
    target = m[2] === "" ? "/" : m[2].startsWith("?") ? "/" + m[2] : m[2];
    const p = /:(\d+)$/.exec(host);
    port = p ? Number(p[1]) : url.toLowerCase().startsWith("https") ? 443 : 80;
  }
  const hasHost = headers.some((h) => /^host\s*:/i.test(h));
  let text = `${method} ${target} HTTP/1.1\r\n`;
  if (host !== undefined && !hasHost) text += `Host: ${host}\r\n`;
  for (const h of headers) text += h + "\r\n";
  return { text: text + "\r\n", port };
}

/**
 * Runs `tandem route`. argv are the arguments after the command word (a leading "route" is
 * skipped). Writes the answer to out, problems to err; returns the exit code (0 ok, 1 config,
 * 2 usage or a request tandem would reject with 4xx).
 */
export function runRoute(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  let args: RouteArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    err(`tandem route: ${(e as Error).message}`);
    err(ROUTE_USAGE);
    return EXIT.usage;
  }
  try {
    const result = loadForRole(tandemConfig, args.config!, args.role);
    if (!result.config) {
      for (const d of result.diagnostics) err(formatDiagnostic(args.config!, d));
      err(`${args.config}: the configuration was not accepted`);
      return EXIT.config;
    }
    const { text, port } = requestText(args.method!, args.url!, args.headers);
    const frontend = pickFrontend(result.config, args.frontend, port);
    const parser = new HeadParser("request", frontend.limits);
    let req;
    try {
      req = parser.push(Buffer.from(text, "latin1"));
    } catch (e) {
      if (!(e instanceof HttpParseError)) throw e;
      out(`frontend ${frontend.name}: rejected with ${e.status}: ${e.message}`);
      return EXIT.usage;
    }
    if (!req) throw new Error("incomplete request");
    const fired: string[] = [];
    const dstPort = port ?? frontend.binds[0]?.ports[0] ?? 80;
    const env: RequestEnv = { client: { srcAddress: args.src, srcPort: 0, dstAddress: frontend.binds[0]?.host || "127.0.0.1", dstPort, frontend: frontend.name }, clock: systemClock };
    let decision = route(frontend, req, env, fired);
    const chosen = typeof decision === "string" ? result.config.backends.find((x) => x.name === decision) : undefined;
    if (chosen) decision = backendRequest(chosen, req, env, fired) ?? decision;
    out(`frontend ${frontend.name}: ${req.method} ${req.host || "(no host)"}${req.target} from ${args.src}`);
    for (const f of fired) out(`  ${f}`);
    if (typeof decision === "string") {
      const b = result.config.backends.find((x) => x.name === decision);
      const servers = b ? b.servers.map((s) => `${s.name} ${s.address}${s.port !== undefined ? ":" + s.port : ""}`).join(", ") : "(not defined)";
      out(`backend ${decision}: ${servers || "no servers"}`);
      out(`  forwarded as: ${req.method} ${req.target}`);
    } else {
      const loc = decision.headers?.find(([k]) => k === "Location");
      out(`response ${decision.status}${loc ? ` Location: ${loc[1]}` : ""}`);
    }
    return EXIT.ok;
  } catch (e) {
    err(`tandem route: ${describeError(e)}`);
    return EXIT.config;
  }
}
