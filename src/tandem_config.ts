// What tandem.yaml is made of: the sections each subsystem owns, and the loader for them.

import { createConfigLoader } from "./config/loader.ts";
import type { ConfigSection } from "./config/section.ts";
import type { BaseConfig } from "./config/types.ts";
import { statsSection } from "./admin/config.ts";
import type { StatsConfig } from "./admin/config.ts";
import { alertsSection } from "./alerts/config.ts";
import type { AlertRule } from "./alerts/config.ts";
import { notifySection } from "./notify/config.ts";
import type { NotifierConfig } from "./notify/config.ts";
import { proxySection } from "./proxy/config.ts";
import type { ProxyConfig } from "./proxy/config_types.ts";
import { vrrpSection } from "./vrrp/config.ts";
import type { VrrpSectionConfig } from "./vrrp/config.ts";
import { acmeSection } from "./acme/config.ts";
import type { AcmeConfig } from "./acme/config.ts";
import { tlsSection } from "./tls/check.ts";
import { bgpSection } from "./bgp/config.ts";
import type { BgpConfig } from "./bgp/config.ts";
import { pairSection } from "./pair/config.ts";
import type { PairConfig } from "./pair/config.ts";

/** The sections after `global` (the loader's own), in the order they resolve and are checked. */
export const SECTIONS: readonly ConfigSection[] = [proxySection, statsSection, vrrpSection, bgpSection, notifySection, alertsSection, acmeSection, tlsSection, pairSection];

/** The resolved config: what the subsystems receive after parsing, defaults and role overrides. */
export type TandemConfig = BaseConfig & ProxyConfig & {
  stats?: StatsConfig;
  vrrp?: VrrpSectionConfig;
  bgp?: BgpConfig;
  notifiers: NotifierConfig[];
  alerts: AlertRule[];
  acme?: AcmeConfig;
  pair: PairConfig;
};

/** Reads and validates tandem.yaml. */
export const tandemConfig = createConfigLoader<TandemConfig>(SECTIONS);

/** Parses and validates config text for role (default master). Never throws on bad input. */
export const loadConfigText = tandemConfig.text;
/** Reads file and validates it for role. Throws TandemError E_READ when the file cannot be read. */
export const loadConfigFile = tandemConfig.file;
/** The schema of the whole file (every section's keys). */
export const configSchema = tandemConfig.schema;
