// The stats page's HTML: a shell around the bundled front end (src/ui/), with a CSP that allows only it.

import { createHash } from "node:crypto";
import { UI_SCRIPT, UI_STYLE } from "../ui/generated/bundle.ts";

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;

// Inline content must not close its own element early.
const SCRIPT = UI_SCRIPT.replace(/<\/(script)/gi, "<\\/$1");
const STYLE = UI_STYLE.replace(/<\/(style)/gi, "<\\/$1");

/** Content-Security-Policy: the page's own inline script and style, fetches to itself, nothing else. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The page for one stats URI: where to fetch JSON, where to post actions (admin only), how often. */
export function statsPage(options: { title: string; jsonUrl: string; actionUrl?: string; refresh: number }): string {
  const attrs = [`data-json="${escapeAttr(options.jsonUrl)}"`, `data-refresh="${options.refresh}"`];
  if (options.actionUrl) attrs.push(`data-action="${escapeAttr(options.actionUrl)}"`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttr(options.title)}</title>
<style>${STYLE}</style>
</head>
<body ${attrs.join(" ")}>
<header><h1>tandem</h1><span id="summary">loading…</span><span id="state" class="state"></span></header>
<main id="main"></main>
<div id="toast" class="toast" role="status" aria-live="polite"></div>
<noscript><p>This page needs JavaScript; the same data is at ${escapeAttr(options.jsonUrl)} and ;csv.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
