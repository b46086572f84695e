// Recognises the shell scripts that sit around haproxy+keepalived: haproxy checks, VIP-lost mailers.

/** What a keepalived check script does when it is one tandem's built-in proxy tracking replaces. */
export interface ProxyCheck {
  /** The command that gave it away, e.g. "killall -0 haproxy". */
  evidence: string;
  /** The script also (re)starts haproxy. */
  restarts: boolean;
}

/** A cron script that mails when this host does not hold (or does hold) a virtual IP. */
export interface VipMailer {
  vip: string;
  /** "missing": mail when the VIP is not on this host (tandem vip_held); "present": the reverse. */
  when: "missing" | "present";
  subject?: string;
  message?: string;
  recipients: string[];
  /** The script reads `ifconfig`, which does not list the addresses keepalived adds. */
  usesIfconfig: boolean;
}

/** Lines of a script without comments and the shebang. */
function codeLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.replace(/(^|\s)#.*$/, "").trim()).filter(Boolean);
}

const PROXY_CHECKS: RegExp[] = [
  /killall\s+-0\s+haproxy\b/,
  /\bpidof\s+(?:-\S+\s+)*haproxy\b/,
  /\bpgrep\s+(?:-\S+\s+)*haproxy\b/,
  /\b(?:netstat|ss)\b[^|\n]*\|\s*grep\b[^|\n]*haproxy\b/,
  /\bps\b[^|\n]*\|\s*grep\b[^|\n]*haproxy\b/,
  /\bservice\s+haproxy\s+(?:status|start|restart)\b/,
  /\bsystemctl\s+(?:-\S+\s+)*(?:is-active|status|start|restart)\s+(?:-\S+\s+)*haproxy\b/,
  /\/etc\/init\.d\/haproxy\s+(?:status|start|restart)\b/,
];
const RESTARTS = /\bservice\s+haproxy\s+(?:start|restart)\b|\bsystemctl\s+(?:-\S+\s+)*(?:start|restart)\s+haproxy\b|\/etc\/init\.d\/haproxy\s+(?:start|restart)\b/;

/** Recognises a check of the haproxy process (inline command or script text); undefined otherwise. */
export function proxyCheck(text: string): ProxyCheck | undefined {
  const code = codeLines(text).join("\n");
  for (const re of PROXY_CHECKS) {
    const m = re.exec(code);
    if (m) return { evidence: m[0].replace(/\s+/g, " "), restarts: RESTARTS.test(code) };
  }
  return undefined;
}

/** True when the text starts, stops or restarts haproxy (e.g. a notify_master script). */
export function controlsHaproxy(text: string): boolean {
  return /\b(?:service\s+haproxy|systemctl\s+(?:-\S+\s+)*\w+\s+haproxy|\/etc\/init\.d\/haproxy)\s*\w*/.test(codeLines(text).join("\n"));
}

/** Splits shell words: quotes grouped and removed, no expansion. */
function shellWords(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * Recognises the seed's baojing.sh pattern: `ip a | grep <VIP>` (or ifconfig), then `mail` when it
 * is (not) found. Returns undefined when the script does not look like that.
 */
export function vipMailer(text: string): VipMailer | undefined {
  const lines = codeLines(text);
  const code = lines.join("\n");
  const look = /\b(ip\s+(?:-\S+\s+)*(?:a|addr|address)(?:\s+\S+)*?|ifconfig(?:\s+\S+)*?)\s*\|\s*grep\s+(?:-\S+\s+)*["']?(\d{1,3}(?:\.\d{1,3}){3})/.exec(code);
  if (!look) return undefined;
  const mailLine = lines.find((l) => /\b(?:mailx?|s-nail|sendmail)\b/.test(l));
  if (!mailLine) return undefined;
  // "mail when grep fails" (the VIP is missing) or "mail when grep succeeds" (the VIP is here).
  const missing = /\|\|[^\n]*\bmail|\bif\s+!|-ne\s+0\b|!=\s*0\b|-eq\s+1\b|-gt\s+0\b/.test(code);
  const present = /&&[^\n]*\bmail|-eq\s+0\b|==\s*0\b|\bif\s+[^!\s[][^\n]*\|\s*grep\b/.test(code);
  const mailer: VipMailer = {
    vip: look[2],
    when: present && !missing ? "present" : "missing",
    recipients: [],
    usesIfconfig: look[1].startsWith("ifconfig"),
  };
  const echo = /\becho\s+(?:-\S+\s+)*("(?:[^"\\]|\\.)*"|'[^']*'|[^|]+?)\s*\|\s*(?:\S*\/)?(?:mailx?|s-nail)\b/.exec(mailLine);
  if (echo) mailer.message = placeholders(shellWords(echo[1]).join(" "));
  const call = /\b(?:mailx?|s-nail|sendmail)\b(.*)$/.exec(mailLine);
  const words = shellWords((call?.[1] ?? "").replace(/(^|\s)[;&|].*$/, ""));
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "-s") mailer.subject = placeholders(words[++i] ?? "");
    else if (/^-[rSaAq]$/.test(words[i])) i++;
    else if (/^-[cb]$/.test(words[i])) continue;
    else if (words[i].startsWith("-")) continue;
    else if (/^[^\s<>]+@[^\s<>]+$|^[a-z_][a-z0-9_-]*$/i.test(words[i])) mailer.recipients.push(words[i]);
  }
  return mailer;
}

/** The host name as the shell wrote it ($(hostname), `hostname`, $HOSTNAME) → tandem's {host}. */
function placeholders(text: string): string {
  return text.replace(/\$\(hostname(?:\s+-\w+)?\)|`hostname(?:\s+-\w+)?`|\$\{?HOSTNAME\}?/g, "{host}");
}
