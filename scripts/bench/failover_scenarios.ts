// What each failover benchmark scenario runs: tandem's YAML and keepalived's file for the same
// VRRP setup, the VIPs the client probes, and which adverts on the wire belong to the master.

import { VIP, VIP2, VIP6 } from "../../test/integration/vrrp_lab.ts";

export const PRIORITY = { master: 100, backup: 50 };

export interface Settings {
  version: 2 | 3;
  /** Advert interval, ms. */
  advert: number;
}

export interface Scenario {
  name: string;
  /** Addresses the client probes (each must move to the backup). */
  vips: { address: string; prefix: number; vrid: number }[];
  /** The VRRP version this scenario runs with the given settings (IPv6 is VRRPv3 only). */
  version(s: Settings): 2 | 3;
  tandemYaml(s: Settings): string;
  keepalivedConf(s: Settings, role: "master" | "backup"): string;
}

function tandemInstance(s: Settings, indent: string, vip: { address: string; prefix: number; vrid: number }, version: 2 | 3): string {
  return [
    "interface: eth0",
    `virtual_router_id: ${vip.vrid}`,
    `version: ${version}`,
    `advert_interval: ${s.advert}ms`,
    ...(version === 2 ? ['authentication: { type: pass, password: "1111" }'] : []),
    `virtual_ips: [${vip.address}/${vip.prefix}]`,
    "roles:",
    `  master: { priority: ${PRIORITY.master} }`,
    `  backup: { priority: ${PRIORITY.backup} }`,
  ].map((l) => `${indent}${l}`).join("\n");
}

function keepalivedInstance(s: Settings, name: string, vip: { address: string; prefix: number; vrid: number }, version: 2 | 3, role: "master" | "backup"): string {
  return `vrrp_instance ${name} {
  state ${role.toUpperCase()}
  interface eth0
  virtual_router_id ${vip.vrid}
  priority ${PRIORITY[role]}
  advert_int ${s.advert / 1000}
${version === 2 ? "  authentication {\n    auth_type PASS\n    auth_pass 1111\n  }\n" : ""}  virtual_ipaddress {
    ${vip.address}/${vip.prefix}
  }
}
`;
}

const globalDefs = (version: number, role: string) => `global_defs {
  router_id bench-${role}
  vrrp_version ${version}
}
`;

/** tandem.yaml for both hosts, product defaults otherwise (GARP: 5 at once, 5 more after 5 s, like keepalived). */
const head = "global: { state_dir: state, grace_period: 3s }\n";

/** The original case: one IPv4 instance. */
export const IPV4: Scenario = {
  name: "IPv4",
  vips: [{ address: VIP, prefix: 24, vrid: 51 }],
  version: (s) => s.version,
  tandemYaml: (s) => `${head}vrrp:\n${tandemInstance(s, "  ", IPV4.vips[0], s.version)}\n`,
  keepalivedConf: (s, role) => globalDefs(s.version, role) + keepalivedInstance(s, "VI_1", IPV4.vips[0], s.version, role),
};

/** One IPv6 instance: VRRPv3 over IPv6, unsolicited neighbour advertisements instead of GARP. */
export const IPV6: Scenario = {
  name: "IPv6",
  vips: [{ address: VIP6, prefix: 64, vrid: 51 }],
  version: () => 3,
  tandemYaml: (s) => `${head}vrrp:\n${tandemInstance(s, "  ", IPV6.vips[0], 3)}\n`,
  keepalivedConf: (s, role) => globalDefs(3, role) + keepalivedInstance(s, "VI_6", IPV6.vips[0], 3, role),
};

/** Two IPv4 instances, both held by the master: failover is over when the client reaches both VIPs on the backup. */
export const TWO: Scenario = {
  name: "two instances",
  vips: [{ address: VIP, prefix: 24, vrid: 51 }, { address: VIP2, prefix: 24, vrid: 52 }],
  version: (s) => s.version,
  tandemYaml: (s) => `${head}vrrp:\n  instances:\n${TWO.vips.map((v, i) => `    VI_${i + 1}:\n${tandemInstance(s, "      ", v, s.version)}`).join("\n")}\n`,
  keepalivedConf: (s, role) => globalDefs(s.version, role) + TWO.vips.map((v, i) => keepalivedInstance(s, `VI_${i + 1}`, v, s.version, role)).join(""),
};

export const SCENARIOS: Record<string, Scenario> = { ipv4: IPV4, ipv6: IPV6, two: TWO };

/** Master_Down_Interval and Skew_Time of the backup (RFC 5798 §6.1; RFC 3768 §6.1 for v2). */
export function expected(s: Settings, version: 2 | 3): { mdi: number; skew: number } {
  const skew = version === 3 ? ((256 - PRIORITY.backup) * s.advert) / 256 : (256 - PRIORITY.backup) / 256 * 1000;
  return { mdi: 3 * s.advert + skew, skew };
}
