// Entry of the single-executable bundle: runs main (or, started by the proxy with
// TANDEM_PROXY_WORKER=1, a proxy worker: src/proxy/workers.ts).
if (process.env.TANDEM_PROXY_WORKER === "1") {
  require("../src/proxy/worker_main.ts");
} else {
  require("../src/main.ts");
}
