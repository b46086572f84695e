// `npm run bench -- tcp|http|failover|tls|scale|raw-socket|pair [options]`: tandem against
// haproxy/keepalived in the same run; scale: one to three tandem nodes behind a BGP/ECMP router;
// raw-socket: VRRP's raw socket on Node and Deno; pair: stick-table replication between two hosts.

const [which, ...rest] = process.argv.slice(2);
const SUITES: Record<string, string> = {
  tcp: "./bench/proxy.ts",
  http: "./bench/proxy.ts",
  failover: "./bench/failover.ts",
  tls: "./bench/tls.ts",
  scale: "./bench/scale.ts",
  "raw-socket": "./bench/raw_socket.ts",
  pair: "./bench/pair.ts",
};

if (!which || !(which in SUITES)) {
  process.stderr.write(`usage: npm run bench -- ${Object.keys(SUITES).join("|")} [--runs N] [--duration S]\n`);
  process.exit(2);
}
const mod = await import(SUITES[which]);
await mod.main(which, rest);
