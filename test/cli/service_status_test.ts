// The one-line status for the service manager, folded from bus events.

import { test } from "node:test";
import assert from "node:assert/strict";
import { EventBus } from "../../src/core/events.ts";
import { followStatus } from "../../src/cli/service_status.ts";

test("VRRP state and priority, servers down and back, failed binds, a failed reload", () => {
  const bus = new EventBus();
  const lines: string[] = [];
  const configured = new Set(["web/app1", "web/app2"]);
  const s = followStatus(bus, "master", (l) => lines.push(l), (p, n) => configured.has(`${p}/${n}`));
  s.facts.phase = "running";
  assert.equal(s.line(), "master, running; no server down");
  bus.emit("vrrp.state", { instance: "VI_1", from: "backup", to: "master", priority: 100, reason: "", vips: [] });
  bus.emit("server.down", { proxy: "web", server: "app2", reason: "L4 refused" });
  bus.emit("listener.failed", { proxy: "web", address: "192.0.2.1:80", reason: "EADDRNOTAVAIL" });
  assert.equal(lines.at(-1), "master, running; VRRP VI_1 MASTER (priority 100); 1 server down: web/app2; cannot bind 192.0.2.1:80");
  bus.emit("vrrp.priority", { instance: "VI_1", priority: 80, base: 100, reason: "track" });
  bus.emit("listener.bound", { proxy: "web", address: "192.0.2.1:80" });
  bus.emit("config.reload_failed", { file: "t.yaml", errors: ["a", "b"] });
  assert.equal(s.line(), "master, running; VRRP VI_1 MASTER (priority 80); 1 server down: web/app2; last reload failed (2 errors), running the previous configuration");
  // A server removed from the file by a reload leaves the list.
  configured.delete("web/app2");
  bus.emit("config.reloaded", { file: "t.yaml" });
  assert.equal(s.line(), "master, running; VRRP VI_1 MASTER (priority 80); no server down");
  bus.emit("server.down", { proxy: "web", server: "app1", reason: "" });
  bus.emit("server.up", { proxy: "web", server: "app1", reason: "" });
  assert.equal(lines.at(-1), "master, running; VRRP VI_1 MASTER (priority 80); no server down");
});

test("several VRRP instances: each named with its state; a stopped one leaves the line", () => {
  const bus = new EventBus();
  const s = followStatus(bus, "master", () => {});
  s.facts.phase = "running";
  bus.emit("vrrp.state", { instance: "A", from: "backup", to: "master", priority: 100, reason: "", vips: [] });
  bus.emit("vrrp.state", { instance: "B", from: "init", to: "backup", priority: 50, reason: "", vips: [] });
  assert.equal(s.line(), "master, running; VRRP A MASTER (priority 100), B BACKUP (priority 50); no server down");
  bus.emit("vrrp.priority", { instance: "B", priority: 60, base: 50, reason: "track" });
  bus.emit("vrrp.state", { instance: "A", from: "master", to: "stopped", priority: 100, reason: "removed by a reload", vips: [] });
  assert.equal(s.line(), "master, running; VRRP B BACKUP (priority 60); no server down");
});

test("many servers down: five named, then an ellipsis", () => {
  const bus = new EventBus();
  const s = followStatus(bus, "backup", () => {});
  for (let i = 1; i <= 7; i++) bus.emit("server.down", { proxy: "p", server: `s${i}`, reason: "" });
  assert.equal(s.line(), "backup, starting; 7 servers down: p/s1, p/s2, p/s3, p/s4, p/s5, ...");
});
