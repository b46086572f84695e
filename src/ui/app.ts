// The stats page's script: polls the `;json` document, renders it, and sends drain/maint/ready actions.
/// <reference lib="dom" />

import type { StatsSnapshot } from "../admin/snapshot.ts";
import { render } from "./render.ts";

const body = document.body;
const jsonUrl = body.dataset.json ?? ";json";
const actionUrl = body.dataset.action ?? "";
const refreshMs = Math.max(1000, Number(body.dataset.refresh) || 5000);
const root = document.getElementById("main")!;
const state = document.getElementById("state")!;
const toast = document.getElementById("toast")!;

let timer: ReturnType<typeof setTimeout> | undefined;
let lastOk = 0;

function show(message: string, ok: boolean): void {
  toast.textContent = message;
  toast.className = ok ? "toast ok" : "toast err";
  setTimeout(() => (toast.className = "toast"), 4000);
}

/** Fetches and renders once; on failure keeps the last picture and says it is stale. */
async function refresh(): Promise<void> {
  clearTimeout(timer);
  try {
    const res = await fetch(jsonUrl, { cache: "no-store", credentials: "same-origin" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const snap = (await res.json()) as StatsSnapshot;
    render(root, snap);
    lastOk = Date.now();
    state.textContent = `updated ${new Date(lastOk).toLocaleTimeString()} · every ${refreshMs / 1000}s`;
    state.className = "state";
    body.dataset.loaded = String(lastOk);
  } catch (e) {
    state.textContent = `cannot refresh (${(e as Error).message})${lastOk ? ` · data from ${new Date(lastOk).toLocaleTimeString()}` : ""}`;
    state.className = "state stale";
  }
  if (!document.hidden) timer = setTimeout(refresh, refreshMs);
}

root.addEventListener("click", async (ev) => {
  const button = (ev.target as HTMLElement).closest("button[data-action]") as HTMLButtonElement | null;
  if (!button || !actionUrl) return;
  const { action, proxy, server } = button.dataset;
  button.disabled = true;
  try {
    const res = await fetch(actionUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action, proxy, server }),
    });
    const reply = (await res.json().catch(() => ({ message: `HTTP ${res.status}` }))) as { message?: string };
    show(reply.message ?? (res.ok ? "done" : `HTTP ${res.status}`), res.ok);
  } catch (e) {
    show(`Cannot send ${action}: ${(e as Error).message}`, false);
  }
  await refresh();
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void refresh();
});

void refresh();
