// Namespace lab for BGP scale-out: a router namespace (BIRD 2 or FRR from Debian, ECMP over every
// path) on the 192.0.2.0/24 segment with three tandem nodes, and a client behind the router on
// 198.51.100.0/24 (IPv6: 2001:db8:2::/64 and 2001:db8:51::/64). Built on vrrp_lab.ts's Lab.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Lab, NODE, started, waitFor, type LabProcess, type LbProcess } from "./vrrp_lab.ts";

export const VIP = "203.0.113.10";
export const VIP6 = "2001:db8:113::10";
export const NODES = ["n1", "n2", "n3"] as const;
export type NodeName = (typeof NODES)[number];
export type RouterKind = "bird" | "frr";
export const ROUTER_AS = 65000;
export const NODE_AS = 65001;
export const PASSWORD = "lab-md5-secret";
/** A host on the nodes' segment with three servers every node balances to (ports 9001-9003). */
export const APP = "192.0.2.100";
/** The client's extra source addresses: 198.51.100.10 and up. */
export const CLIENT_SOURCES = 20;
/** BGP hold time both sides use, seconds. */
export const HOLD = 3;
const CLIENT = join(dirname(fileURLToPath(import.meta.url)), "bgp_client.ts");

const v4 = (n: NodeName) => `192.0.2.1${n.slice(1)}`;
const v6 = (n: NodeName) => `2001:db8:2::1${n.slice(1)}`;

export interface BgpLabOptions {
  /** Also peer over IPv6 and announce VIP6. */
  ipv6?: boolean;
  /** TCP MD5 on every session. */
  password?: boolean;
}

/** The YAML every node runs (the same file on all three, no --role). */
export function nodeYaml(o: BgpLabOptions & { extra?: string } = {}): string {
  const peers = [`{ address: 192.0.2.1, as: ${ROUTER_AS}${o.password ? `, password: "${PASSWORD}"` : ""} }`];
  if (o.ipv6) peers.push(`{ address: "2001:db8:2::1", as: ${ROUTER_AS}${o.password ? `, password: "${PASSWORD}"` : ""} }`);
  const server = "servers: { app: { address: 127.0.0.1, port: 8081, check: { interval: 100ms, timeout: 300ms, rise: 1, fall: 1 } } }";
  const apps = [1, 2, 3].map((i) => `app${i}: { address: ${APP}, port: 900${i}, check: { interval: 200ms, timeout: 300ms } }`).join(", ");
  return `global: { state_dir: state, grace_period: 4s, admin_socket: tandem.sock }
proxies:
  web:
    mode: tcp
    bind: "${VIP}:80"
    timeout: { connect: 500ms }
    ${server}
  pool:
    mode: tcp
    bind: "${VIP}:81"
    balance: { algorithm: source, hash: consistent }
    servers: { ${apps} }
${o.ipv6 ? `  web6:\n    mode: tcp\n    bind: "[${VIP6}]:80"\n    timeout: { connect: 500ms }\n    ${server}\n` : ""}bgp:
  local_as: ${NODE_AS}
  peers: [${peers.join(", ")}]
  announce: [${VIP}/32${o.ipv6 ? `, "${VIP6}/128"` : ""}]
  announce_delay: 300ms
  withdraw_wait: 1s
${o.extra ?? ""}`;
}

/** RFC 8326 §4 on the receiving side: a route tagged GRACEFUL_SHUTDOWN gets LOCAL_PREF 0, so it leaves the ECMP set. */
const GSHUT_FILTER = "filter gshut { if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept; }";

function birdConf(o: BgpLabOptions): string {
  const pw = o.password ? ` password "${PASSWORD}";` : "";
  const peers = NODES.map((n) => `protocol bgp ${n} from lb { neighbor ${v4(n)} as ${NODE_AS}; }`);
  const peers6 = o.ipv6 ? NODES.map((n) => `protocol bgp ${n}v6 from lb6 { neighbor ${v6(n)} as ${NODE_AS}; }`) : [];
  // error wait time: BIRD's default (60..300 s) keeps a peer that just failed out for a minute.
  const common = `hold time ${HOLD}; keepalive time 1; connect retry time 1; error wait time 1, 2; error forget time 10;${pw}`;
  return `router id 192.0.2.1;
log stderr all;
protocol device { scan time 1; }
protocol kernel k4 { ipv4 { export all; import none; }; merge paths on; }
${o.ipv6 ? "protocol kernel k6 { ipv6 { export all; import none; }; merge paths on; }" : ""}
${GSHUT_FILTER}
template bgp lb { local 192.0.2.1 as ${ROUTER_AS}; ${common} ipv4 { import filter gshut; export none; }; }
${o.ipv6 ? `template bgp lb6 { local 2001:db8:2::1 as ${ROUTER_AS}; ${common} ipv6 { import filter gshut; export none; }; }` : ""}
${[...peers, ...peers6].join("\n")}
`;
}

function frrConf(o: BgpLabOptions): string {
  const lines = [
    "frr defaults datacenter",
    "hostname router",
    "log stdout informational",
    `router bgp ${ROUTER_AS}`,
    " bgp router-id 192.0.2.1",
    " no bgp ebgp-requires-policy",
    " neighbor LB peer-group",
    ` neighbor LB remote-as ${NODE_AS}`,
    ` neighbor LB timers 1 ${HOLD}`,
    " neighbor LB timers connect 1",
    ...(o.password ? [` neighbor LB password ${PASSWORD}`] : []),
    ...NODES.map((n) => ` neighbor ${v4(n)} peer-group LB`),
    ...(o.ipv6 ? NODES.map((n) => ` neighbor ${v6(n)} peer-group LB`) : []),
    " address-family ipv4 unicast",
    "  maximum-paths 8",
    ...(o.ipv6 ? NODES.map((n) => `  no neighbor ${v6(n)} activate`) : []),
    " exit-address-family",
    ...(o.ipv6 ? [" address-family ipv6 unicast", "  maximum-paths 8", ...NODES.map((n) => `  neighbor ${v6(n)} activate`), " exit-address-family"] : []),
  ];
  return lines.join("\n") + "\n";
}

/** The lab: namespaces, the router daemon, backends on each node, tandem nodes, the client. */
export class BgpLab {
  readonly lab: Lab;
  readonly kind: RouterKind;
  readonly o: BgpLabOptions;
  readonly dir: string;
  readonly nodes = new Map<NodeName, LbProcess>();
  readonly backends = new Map<NodeName, LabProcess>();
  router?: LabProcess;
  file = "";

  constructor(kind: RouterKind, o: BgpLabOptions = {}) {
    this.kind = kind;
    this.o = o;
    this.lab = new Lab({ router: "192.0.2.1", n1: v4("n1"), n2: v4("n2"), n3: v4("n3"), app: APP, client: "" });
    this.dir = join(this.lab.dir, "router");
    try {
      this.lab.link("router", "client", "198.51.100.1/24", "198.51.100.2/24");
      this.#sysctl("router", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1");
      // ECMP per flow (5-tuple), so one client's connections spread over the nodes.
      this.#sysctl("router", "net.ipv6.conf.all.forwarding=1", "net.ipv6.fib_multipath_hash_policy=1");
      this.lab.exec("client", ["ip", "route", "add", "default", "via", "198.51.100.1"]);
      for (let i = 0; i < CLIENT_SOURCES; i++) this.lab.exec("client", ["ip", "addr", "add", `198.51.100.${10 + i}/24`, "dev", "eth1"]);
      this.lab.exec("app", ["ip", "route", "add", "default", "via", "192.0.2.1"]);
      for (const n of NODES) this.lab.exec(n, ["ip", "route", "add", "default", "via", "192.0.2.1"]);
      if (o.ipv6) {
        this.lab.exec("router", ["ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", "eth0", "nodad"]);
        this.lab.exec("router", ["ip", "-6", "addr", "add", "2001:db8:51::1/64", "dev", "eth1", "nodad"]);
        this.lab.exec("client", ["ip", "-6", "addr", "add", "2001:db8:51::2/64", "dev", "eth1", "nodad"]);
        this.lab.exec("client", ["ip", "-6", "route", "add", "default", "via", "2001:db8:51::1"]);
        for (const n of NODES) {
          this.lab.exec(n, ["ip", "-6", "addr", "add", `${v6(n)}/64`, "dev", "eth0", "nodad"]);
          this.lab.exec(n, ["ip", "-6", "route", "add", "default", "via", "2001:db8:2::1"]);
        }
      }
    } catch (err) {
      void this.lab.destroy();
      throw err;
    }
  }

  #sysctl(host: string, ...settings: string[]): void {
    this.lab.exec(host, ["sysctl", "-qw", ...settings]);
  }

  /** Starts BIRD or FRR in the router namespace; resolves once it answers on its control socket. */
  async startRouter(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (this.kind === "bird") {
      const conf = join(this.dir, "bird.conf");
      writeFileSync(conf, birdConf(this.o));
      this.router = this.lab.spawn("router", ["bird", "-f", "-c", conf, "-s", join(this.dir, "bird.ctl"), "-P", join(this.dir, "bird.pid")]);
    } else {
      // FRR's daemons drop to the frr user (the vty group), so their files live in a folder it can write.
      chmodSync(this.lab.dir, 0o711);
      chmodSync(this.dir, 0o777);
      const zebra = join(this.dir, "zebra.conf");
      const bgpd = join(this.dir, "bgpd.conf");
      writeFileSync(zebra, "hostname router\n");
      writeFileSync(bgpd, frrConf(this.o));
      const common = ["-z", join(this.dir, "zserv.api"), "--vty_socket", this.dir, "-u", "frr", "-g", "frr"];
      this.router = this.lab.spawn("router", ["/usr/lib/frr/zebra", "-f", zebra, "-i", join(this.dir, "zebra.pid"), ...common]);
      await waitFor(() => this.#ctl(["show version"]) !== "", 10_000, 100);
      this.lab.spawn("router", ["/usr/lib/frr/bgpd", "-f", bgpd, "-i", join(this.dir, "bgpd.pid"), ...common]);
    }
    if ((await waitFor(() => this.sessions().total === (this.o.ipv6 ? 6 : 3), 10_000, 100)) < 0) {
      throw new Error(`${this.kind} did not start:\n${this.router.output()}`);
    }
  }

  /** Runs the router's CLI (birdc / vtysh) with a command; "" when it cannot talk to the daemon. */
  #ctl(command: string[]): string {
    const cmd = this.kind === "bird" ? ["birdc", "-s", join(this.dir, "bird.ctl"), ...command] : ["vtysh", "--vty_socket", this.dir, ...command.flatMap((c) => ["-c", c])];
    try {
      return execFileSync(cmd[0], cmd.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
    } catch {
      return "";
    }
  }

  /** The router's view of the sessions: how many are configured and established. */
  sessions(): { total: number; established: number } {
    if (this.kind === "bird") {
      const rows = this.#ctl(["show", "protocols"]).split("\n").filter((l) => /\bBGP\b/.test(l));
      return { total: rows.length, established: rows.filter((l) => /Established/.test(l)).length };
    }
    const text = this.#ctl(["show bgp summary json"]);
    if (!text) return { total: 0, established: 0 };
    try {
      const j = JSON.parse(text) as Record<string, { peers?: Record<string, { state: string }> }>;
      const peers = new Map<string, string>();
      for (const af of Object.values(j)) for (const [addr, p] of Object.entries(af.peers ?? {})) peers.set(addr, p.state);
      // An IPv6 peer that is only activated for IPv6 shows under ipv6Unicast.
      return { total: peers.size, established: [...peers.values()].filter((s) => s === "Established").length };
    } catch {
      return { total: 0, established: 0 };
    }
  }

  /** Next hops of the VIP's route in the router's kernel table (what ECMP spreads over). */
  paths(address = VIP): string[] {
    const text = this.lab.exec("router", ["ip", ...(address.includes(":") ? ["-6"] : []), "route", "show", address], { allowFail: true });
    return [...text.matchAll(/via (\S+)/g)].map((m) => m[1]).sort();
  }

  /** Waits until the VIP has exactly the given next hops; elapsed ms or -1. */
  waitPaths(nodes: readonly NodeName[], ms: number, address = VIP): Promise<number> {
    const want = nodes.map(address.includes(":") ? v6 : v4).sort().join(" ");
    return waitFor(() => this.paths(address).join(" ") === want, ms, 10);
  }

  /** The router's own account of the route (birdc show route all / vtysh show bgp), for failure messages. */
  routeReport(): string {
    return this.kind === "bird" ? this.#ctl(["show", "route", "all"]) + this.#ctl(["show", "protocols"]) : this.#ctl(["show bgp ipv4 unicast", "show bgp summary"]);
  }

  /** The router's attributes for the VIP as text (to look for communities, local preference). */
  routeDetail(address = VIP): string {
    return this.kind === "bird" ? this.#ctl(["show", "route", "for", address, "all"]) : this.#ctl([`show bgp ${address.includes(":") ? "ipv6" : "ipv4"} unicast ${address}`]);
  }

  /** Three servers on the app host (9001-9003) answering "appN via <the node that connected>". */
  async startApp(): Promise<void> {
    const js = `for(const i of [1,2,3])require("node:net").createServer(c=>{c.on("error",()=>{});c.end("app"+i+" via "+c.remoteAddress+"\\n")}).listen(9000+i,"${APP}");` +
      `console.log("listening");process.on("SIGTERM",()=>process.exit(0));`;
    const p = this.lab.spawn("app", [NODE, "-e", js]);
    await waitFor(() => p.lines.includes("listening"), 5000);
  }

  /** From each of the client's source addresses, k requests to VIP:81: the answers per source. */
  sourceRequests(k: number): Record<string, string[]> {
    const out = this.lab.exec("client", [NODE, "--no-warnings", CLIENT, "sources", VIP, "81", "198.51.100.10", String(CLIENT_SOURCES), String(k)]);
    return JSON.parse(out.trim().split("\n").at(-1)!);
  }

  /** A backend on 127.0.0.1:8081 of the node answering with the node's name. */
  async startBackend(n: NodeName): Promise<void> {
    this.backends.set(n, await this.lab.serve(n, 8081, n, "127.0.0.1"));
  }

  async stopBackend(n: NodeName): Promise<void> {
    const p = this.backends.get(n);
    if (!p) return;
    p.child.kill("SIGKILL");
    await p.exited;
    this.backends.delete(n);
  }

  /** Writes the file every node runs: nodeYaml with `extra` lines under bgp:, or `yaml` as given. */
  writeConfig(extra = "", yaml?: string): string {
    this.file = this.lab.writeConfig(yaml ?? nodeYaml({ ...this.o, extra }), "bgp");
    return this.file;
  }

  /** Starts the built binary on node n (no --role) and waits until it runs. */
  async startNode(n: NodeName): Promise<LbProcess> {
    const p = this.lab.spawnLb(n, this.file || this.writeConfig(), undefined);
    this.nodes.set(n, p);
    await started(p);
    return p;
  }

  /** `tandem ctl --socket` on node n. */
  ctl(n: NodeName, command: string): string {
    const r = spawnSync("ip", ["netns", "exec", this.lab.ns(n), this.lab.binary(), "ctl", "--socket", join(this.lab.dir, n, "tandem.sock"), command], { encoding: "utf8", timeout: 10_000 });
    return r.status === 0 ? r.stdout : `exit ${r.status}: ${r.stdout}${r.stderr}`;
  }

  /** N new connections from the client (CONCURRENCY at a time): answers per node and errors. */
  requests(n: number, address = VIP, concurrency = 8): { counts: Record<string, number>; errors: string[] } {
    const out = this.lab.exec("client", [NODE, "--no-warnings", CLIENT, "count", address, "80", String(n), String(concurrency)]);
    return JSON.parse(out.trim().split("\n").at(-1)!);
  }

  /** A request every `every` ms from the client until stopped; see streamResults. */
  stream(every: number, address = VIP): LabProcess {
    return this.lab.spawn("client", [NODE, "--no-warnings", CLIENT, "stream", address, "80", String(every)]);
  }

  destroy(): Promise<void> {
    return this.lab.destroy();
  }
}

/** One request of a stream: start and end wall ms, and the answer ("n1", or "ERR code"). */
export interface StreamResult {
  start: number;
  end: number;
  answer: string;
}

export function streamResults(p: LabProcess): StreamResult[] {
  return p.lines.map((l) => {
    const [start, end, ...rest] = l.split(" ");
    return { start: Number(start), end: Number(end), answer: rest.join(" ") };
  }).filter((r) => Number.isFinite(r.start));
}

/** Wall-clock ms, comparable with the client's timestamps. */
export const wall = () => performance.timeOrigin + performance.now();
