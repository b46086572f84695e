// One host's keepalived.conf read into plain values: global_defs, vrrp_script, vrrp_instance.

import type { KaConfig, KaNode } from "./keepalived_conf.ts";
import { blockLines } from "./keepalived_conf.ts";
import type { ImportNotes } from "./notes.ts";
import { directiveText } from "./notes.ts";

/** A value with the line it was read from. */
export interface Val<T> {
  v: T;
  line: number;
}

export interface Vip {
  address: string;
  dev?: string;
  label?: string;
  line: number;
}

export interface TrackRef {
  name: string;
  weight?: number;
  line: number;
}

export type NotifyState = "master" | "backup" | "fault" | "stop";

export interface KaInstance {
  name: string;
  line: number;
  state?: Val<string>;
  interface?: Val<string>;
  vrid?: Val<number>;
  priority?: Val<number>;
  /** Milliseconds. */
  advert?: Val<number>;
  auth?: Val<{ type: string; pass?: string }>;
  vips: Vip[];
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackProcesses: TrackRef[];
  unicastSrc?: Val<string>;
  unicastPeers?: Val<string[]>;
  nopreempt?: Val<true>;
  preemptDelay?: Val<number>;
  notify: Partial<Record<NotifyState, Val<string>>>;
  smtpAlert?: Val<boolean>;
  version?: Val<number>;
  /** tandem garp keys → value (durations in ms). */
  garp: Record<string, Val<number>>;
  /** The notes reading this instance produced: [first, end) in ImportNotes.items (moved under its name when several are written). */
  notes: [number, number];
}

/** A vrrp_sync_group: its members as written and its notify scripts. */
export interface KaSyncGroup {
  name: string;
  line: number;
  members: { name: string; line: number }[];
  notify: Partial<Record<NotifyState, Val<string>>>;
}

export interface KaScript {
  name: string;
  line: number;
  command?: Val<string>;
  interval?: number;
  timeout?: number;
  rise?: number;
  fall?: number;
  weight?: Val<number>;
  /** vrrp_track_process: the process name it watches. */
  process?: string;
}

export interface KaHost {
  file: string;
  routerId?: Val<string>;
  email: { to: string[]; toLine?: number; from?: Val<string>; smtp?: Val<{ host: string; port?: number }>; timeout?: Val<number>; helo?: Val<string> };
  smtpAlert?: Val<boolean>;
  version?: Val<number>;
  garp: Record<string, Val<number>>;
  scripts: Map<string, KaScript>;
  processes: Map<string, KaScript>;
  instances: KaInstance[];
  syncGroups: KaSyncGroup[];
  /** Comments written on a statement's line (or after the "}" closing its block), by line. */
  comments: Map<number, string>;
}

/** keepalived seconds ("1", "0.5") → milliseconds; undefined when not a number. */
export function seconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Math.round(Number(text) * 1000);
}

const int = (s: string | undefined) => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined);
const bool = (args: string[]) => args.length === 0 || /^(on|true|yes)$/i.test(args[0]);

/** garp keywords (instance and vrrp_garp_* in global_defs) → tandem garp keys; values in seconds. */
const GARP: Record<string, string> = {
  garp_master_delay: "repeat_delay", garp_master_repeat: "repeat_count", garp_master_refresh: "refresh", garp_interval: "interval",
};

const INSTANCE_REASONS: Record<string, string> = {
  notify: "the generic notify script (called with instance, state and priority) is not supported: use notify_master/backup/fault/stop",
  virtual_ipaddress_excluded: "excluded VIPs are not supported: list them in virtual_ipaddress",
  virtual_routes: "virtual routes are not supported",
  virtual_rules: "virtual rules are not supported",
  use_vmac: "VRRP virtual MAC interfaces are not supported",
  vmac_xmit_base: "VRRP virtual MAC interfaces are not supported",
  dont_track_primary: "tandem always watches the VRRP interface",
  track_file: "file tracking is not supported: use a track script (e.g. test -s FILE)",
  track_bfd: "BFD tracking is not supported",
  mcast_src_ip: "the multicast source address is the interface's own",
  lvs_sync_daemon_interface: "LVS is not used: tandem proxies the traffic itself",
  accept: "tandem never answers on the VIP itself (it only proxies the ports it binds)",
  no_accept: "nothing to do: tandem only answers on the ports it binds",
  strict_mode: "strict mode is not supported; tandem follows RFC 5798/3768 without keepalived's extra restrictions",
  debug: "use --log-level debug",
  garp_master_refresh_repeat: "GARP refresh repeat is not configurable",
  garp_lower_prio_delay: "not configurable in tandem",
  garp_lower_prio_repeat: "not configurable in tandem",
  notify_master_rx_lower_pri: "not supported",
  kernel_rx_buf_size: "not configurable in tandem",
};

function instance(host: KaHost, node: KaNode, notes: ImportNotes): KaInstance {
  const inst: KaInstance = { name: node.args[0] ?? "VI_1", line: node.line, vips: [], trackScripts: [], trackInterfaces: [], trackProcesses: [], notify: {}, garp: {}, notes: [0, 0] };
  const skip = (c: KaNode, reason: string) => {
    // Addresses and routes that move with the VIP: without them traffic goes elsewhere after a failover.
    if (/^(virtual_ipaddress_excluded|virtual_routes|virtual_rules)$/.test(c.keyword)) notes.refused(host.file, c.line, c.keyword, reason, "routing", ["vrrp"]);
    else notes.untranslated(host.file, c.line, directiveText([c.keyword, ...c.args]), reason, ["vrrp"]);
  };
  const refs = (c: KaNode): TrackRef[] =>
    blockLines(c).map((l) => {
      const w = l.words.indexOf("weight");
      if (l.words.includes("reverse")) notes.untranslated(host.file, l.line, l.words.join(" "), "reverse weights are not supported", ["vrrp"]);
      return { name: l.words[0], weight: w > 0 ? int(l.words[w + 1]) : undefined, line: l.line };
    });
  for (const c of node.children ?? []) {
    const a = c.args;
    const val = <T>(v: T): Val<T> => ({ v, line: c.line });
    switch (c.keyword) {
      case "state":
        if (/^(MASTER|BACKUP)$/i.test(a[0] ?? "")) inst.state = val(a[0].toUpperCase());
        else skip(c, `state ${a[0]} is not MASTER or BACKUP`);
        break;
      case "interface":
        inst.interface = val(a[0]);
        break;
      case "virtual_router_id":
        if (int(a[0]) !== undefined && int(a[0])! >= 1 && int(a[0])! <= 255) inst.vrid = val(int(a[0])!);
        else skip(c, "virtual_router_id must be 1..255");
        break;
      case "priority":
        if (int(a[0]) !== undefined && int(a[0])! >= 1 && int(a[0])! <= 255) inst.priority = val(int(a[0])!);
        else skip(c, "priority must be 1..255");
        break;
      case "advert_int":
        if (seconds(a[0]) !== undefined) inst.advert = val(seconds(a[0])!);
        else skip(c, `"${a[0]}" is not a number of seconds`);
        break;
      case "authentication": {
        const type = c.children?.find((x) => x.keyword === "auth_type")?.args[0]?.toUpperCase() ?? "PASS";
        const pass = c.children?.find((x) => x.keyword === "auth_pass")?.args[0];
        inst.auth = val({ type, pass });
        break;
      }
      case "virtual_ipaddress":
        for (const l of blockLines(c)) {
          const [address, ...opts] = l.words;
          const vip: Vip = { address, line: l.line };
          for (let i = 0; i < opts.length; i += 2) {
            if (opts[i] === "dev") vip.dev = opts[i + 1];
            else if (opts[i] === "label") vip.label = opts[i + 1];
            else notes.untranslated(host.file, l.line, `${address} ${opts.slice(i, i + 2).join(" ")}`, "only dev and label are supported on a virtual IP", ["vrrp", "virtual_ips"]);
          }
          inst.vips.push(vip);
        }
        break;
      case "track_script":
        inst.trackScripts.push(...refs(c));
        break;
      case "track_interface":
        inst.trackInterfaces.push(...refs(c));
        break;
      case "track_process":
        inst.trackProcesses.push(...refs(c));
        break;
      case "unicast_src_ip":
        inst.unicastSrc = val(a[0]);
        break;
      case "unicast_peer":
        inst.unicastPeers = val(blockLines(c).map((l) => l.words[0]));
        for (const l of blockLines(c)) if (l.words.length > 1) notes.untranslated(host.file, l.line, l.words.join(" "), "per-peer options are not supported", ["vrrp"]);
        break;
      case "nopreempt":
        inst.nopreempt = val(true);
        break;
      case "preempt":
        break;
      case "preempt_delay":
        if (seconds(a[0]) !== undefined) inst.preemptDelay = val(seconds(a[0])!);
        else skip(c, `"${a[0]}" is not a number of seconds`);
        break;
      case "notify_master":
      case "notify_backup":
      case "notify_fault":
      case "notify_stop":
        inst.notify[c.keyword.slice(7) as NotifyState] = val(a.join(" "));
        break;
      case "smtp_alert":
        inst.smtpAlert = val(bool(a));
        break;
      case "native_ipv6":
        // The instance's family follows its virtual IPs in tandem; an IPv6 one is VRRPv3 over IPv6.
        break;
      case "version":
        if (a[0] === "2" || a[0] === "3") inst.version = val(Number(a[0]));
        else skip(c, "version must be 2 or 3");
        break;
      default:
        if (GARP[c.keyword] && seconds(a[0]) !== undefined) inst.garp[GARP[c.keyword]] = val(c.keyword === "garp_master_repeat" ? Number(a[0]) : seconds(a[0])!);
        else skip(c, INSTANCE_REASONS[c.keyword] ?? `"${c.keyword}" has no tandem equivalent`);
    }
  }
  return inst;
}

const GROUP_REASONS: Record<string, string> = {
  notify: "the generic notify script is not supported: use notify_master/backup/fault/stop",
  track_interface: "track in the member instances: a member going FAULT takes the group with it",
  track_script: "track in the member instances: a member going FAULT takes the group with it",
  track_process: "track in the member instances: a member going FAULT takes the group with it",
  track_file: "track in the member instances: a member going FAULT takes the group with it",
  global_tracking: "track in the member instances: a member going FAULT takes the group with it",
  sync_group_tracking_weight: "tracking weights apply per instance in tandem",
  smtp_alert: "tandem mails state changes through alerts (on: vrrp_group_change)",
};

function syncGroup(host: KaHost, node: KaNode, notes: ImportNotes): KaSyncGroup {
  const g: KaSyncGroup = { name: node.args[0] ?? "", line: node.line, members: [], notify: {} };
  for (const c of node.children ?? []) {
    if (c.keyword === "group") g.members.push(...blockLines(c).map((l) => ({ name: l.words[0], line: l.line })));
    else if (/^notify_(master|backup|fault|stop)$/.test(c.keyword)) g.notify[c.keyword.slice(7) as NotifyState] = { v: c.args.join(" "), line: c.line };
    else notes.untranslated(host.file, c.line, directiveText([c.keyword, ...c.args]), GROUP_REASONS[c.keyword] ?? `"${c.keyword}" has no tandem equivalent`, ["vrrp", "sync_groups"]);
  }
  return g;
}

function script(host: KaHost, node: KaNode, notes: ImportNotes): KaScript {
  const s: KaScript = { name: node.args[0] ?? "", line: node.line };
  for (const c of node.children ?? []) {
    const a = c.args;
    if (c.keyword === "script") s.command = { v: a.join(" "), line: c.line };
    else if (c.keyword === "process") s.process = a[0];
    else if (c.keyword === "interval" && seconds(a[0]) !== undefined) s.interval = seconds(a[0]);
    else if (c.keyword === "timeout" && seconds(a[0]) !== undefined) s.timeout = seconds(a[0]);
    else if ((c.keyword === "rise" || c.keyword === "fall") && int(a[0]) !== undefined) s[c.keyword] = int(a[0]);
    else if (c.keyword === "weight" && int(a[0]) !== undefined) {
      s.weight = { v: int(a[0])!, line: c.line };
      if (a[1] === "reverse") notes.untranslated(host.file, c.line, `weight ${a.join(" ")}`, "reverse weights are not supported", ["vrrp", "track"]);
    } else notes.untranslated(host.file, c.line, directiveText([c.keyword, ...a]), c.keyword === "user" ? "track scripts run as root" : `"${c.keyword}" has no tandem equivalent`, ["vrrp", "track"]);
  }
  return s;
}

const GLOBAL_REASONS: Record<string, string> = {
  enable_script_security: "tandem runs track and notify scripts as root",
  script_user: "tandem runs track and notify scripts as root",
  vrrp_skip_check_adv_addr: "tandem always checks the addresses in adverts",
  vrrp_strict: "strict mode is not supported (it adds firewall rules and forbids unicast and authentication)",
  vrrp_iptables: "tandem adds no firewall rules",
  vrrp_mcast_group4: "tandem uses the standard group 224.0.0.18",
  vrrp_check_unicast_src: "tandem always checks that unicast adverts come from the peer",
  vrrp_priority: "process priorities are not configurable",
  checker_priority: "process priorities are not configurable",
  vrrp_no_swap: "not configurable in tandem",
  checker_no_swap: "not configurable in tandem",
  dynamic_interfaces: "not configurable in tandem",
};

/** Reads one keepalived.conf into plain values; reports what tandem cannot use. */
export function readKeepalivedHost(cfg: KaConfig, notes: ImportNotes): KaHost {
  const host: KaHost = { file: cfg.file, email: { to: [] }, garp: {}, scripts: new Map(), processes: new Map(), instances: [], syncGroups: [], comments: new Map() };
  const walk = (nodes: KaNode[]) => {
    for (const n of nodes) {
      if (n.comment) host.comments.set(n.line, n.comment);
      walk(n.children ?? []);
    }
  };
  walk(cfg.nodes);
  for (const p of cfg.problems) notes.warn(cfg.file, p.line, p.message);
  for (const node of cfg.nodes) {
    const skip = (c: KaNode, reason: string, at: (string | number)[] = ["vrrp"]) => notes.untranslated(cfg.file, c.line, directiveText([c.keyword, ...c.args]), reason, at);
    switch (node.keyword) {
      case "global_defs":
        for (const c of node.children ?? []) {
          const a = c.args;
          if (c.keyword === "notification_email") {
            host.email.to = blockLines(c).map((l) => l.words[0]);
            host.email.toLine = c.line;
          } else if (c.keyword === "notification_email_from") host.email.from = { v: a[0], line: c.line };
          else if (c.keyword === "smtp_server") host.email.smtp = { v: { host: a[0], port: int(a[1]) }, line: c.line };
          else if (c.keyword === "smtp_connect_timeout" && seconds(a[0]) !== undefined) host.email.timeout = { v: seconds(a[0])!, line: c.line };
          else if (c.keyword === "smtp_helo_name") host.email.helo = { v: a[0], line: c.line };
          else if (c.keyword === "router_id" || c.keyword === "lvs_id") host.routerId = { v: a[0], line: c.line };
          else if (c.keyword === "smtp_alert" || c.keyword === "smtp_alert_vrrp") host.smtpAlert = { v: bool(a), line: c.line };
          else if (c.keyword === "vrrp_version" && (a[0] === "2" || a[0] === "3")) host.version = { v: Number(a[0]), line: c.line };
          else if (c.keyword.startsWith("vrrp_garp_") && GARP[c.keyword.slice(5)] && seconds(a[0]) !== undefined) {
            host.garp[GARP[c.keyword.slice(5)]] = { v: c.keyword === "vrrp_garp_master_repeat" ? Number(a[0]) : seconds(a[0])!, line: c.line };
          } else if (c.keyword === "vrrp_gna_interval" || c.keyword === "smtp_alert_checker") skip(c, "not used by tandem", ["notify"]);
          else skip(c, GLOBAL_REASONS[c.keyword] || `"${c.keyword}" has no tandem equivalent`);
        }
        break;
      case "vrrp_script":
        host.scripts.set(node.args[0], script(host, node, notes));
        break;
      case "vrrp_track_process":
        host.processes.set(node.args[0], script(host, node, notes));
        break;
      case "vrrp_instance": {
        const first = notes.items.length;
        const inst = instance(host, node, notes);
        inst.notes = [first, notes.items.length];
        host.instances.push(inst);
        break;
      }
      case "include":
        skip(node, "include is ignored: import the included file's content by hand (or concatenate the files first)", []);
        break;
      case "vrrp_sync_group":
        host.syncGroups.push(syncGroup(host, node, notes));
        break;
      case "virtual_server":
      case "virtual_server_group":
        // The addresses LVS balanced would no longer be balanced.
        notes.refused(cfg.file, node.line, directiveText([node.keyword, ...node.args]), "LVS balancing is not supported: give tandem a proxy for that address and port (proxies:)", "routing", []);
        break;
      case "static_routes":
      case "static_rules":
      case "static_ipaddress":
        notes.refused(cfg.file, node.line, node.keyword, "static routes, rules and addresses are not managed by tandem: configure them in the host's network setup", "routing", []);
        break;
      default:
        skip(node, node.keyword.startsWith("@") || node.keyword.startsWith("$") ? "keepalived's conditional and variable lines are not supported" : `"${node.keyword}" has no tandem equivalent`, []);
    }
  }
  return host;
}
