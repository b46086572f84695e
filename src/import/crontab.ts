// A crontab as cron reads it: schedules (5 fields or @nicknames), commands, variables, file:line.

/** One job line. */
export interface CronJob {
  /** "* * * * *" or "@hourly" / "@reboot". */
  schedule: string;
  command: string;
  /** The user field of a system crontab (/etc/crontab, /etc/cron.d/*). */
  user?: string;
  line: number;
  /** The comment line(s) right above the job, joined. */
  comment?: string;
}

export interface CronFile {
  file: string;
  jobs: CronJob[];
  /** Variables such as MAILTO, with the line that set them. */
  env: Record<string, { value: string; line: number }>;
  problems: { line: number; message: string }[];
}

const NICKNAMES = new Set(["@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
/** Users a system crontab line names before the command. */
const SYSTEM_USERS = /^(root|nobody|daemon|www-data|haproxy|keepalived|apache|nginx)$/;

/**
 * Parses crontab text. Lines are `min hour dom month dow command`, `@nickname command`,
 * `NAME=value`, comments or blank. A sixth field naming a system user (root...) is taken as the
 * user column of /etc/crontab. Never throws; lines cron would reject go to problems.
 */
export function parseCrontab(text: string, file: string): CronFile {
  const jobs: CronJob[] = [];
  const env: CronFile["env"] = {};
  const problems: CronFile["problems"] = [];
  let comments: string[] = [];
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (text === "") {
      comments = [];
      return;
    }
    if (text.startsWith("#")) {
      comments.push(text.slice(1).trim());
      return;
    }
    const comment = comments.filter(Boolean).join(" ") || undefined;
    comments = [];
    const assign = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(text);
    if (assign && !/^[\d*@]/.test(text)) {
      env[assign[1]] = { value: assign[2].replace(/^(["'])(.*)\1$/, "$2"), line };
      return;
    }
    const fields = text.split(/\s+/);
    let schedule: string;
    let rest: string[];
    if (fields[0].startsWith("@")) {
      if (!NICKNAMES.has(fields[0])) {
        problems.push({ line, message: `"${fields[0]}" is not a cron nickname` });
        return;
      }
      schedule = fields[0];
      rest = fields.slice(1);
    } else {
      if (fields.length < 6) {
        problems.push({ line, message: `a job needs 5 time fields and a command; this line has ${fields.length} fields` });
        return;
      }
      schedule = fields.slice(0, 5).join(" ");
      rest = fields.slice(5);
    }
    let user: string | undefined;
    if (rest.length > 1 && SYSTEM_USERS.test(rest[0])) user = rest.shift();
    // Keep the command's own spacing: take it from the raw line after the fields before it.
    const command = text.slice(indexAfterFields(text, fields.length - rest.length)).trim();
    if (command === "") {
      problems.push({ line, message: "the job has no command" });
      return;
    }
    jobs.push({ schedule, command, user, line, comment });
  });
  return { file, jobs, env, problems };
}

/** Offset in text just after its first n blank-separated fields. */
function indexAfterFields(text: string, n: number): number {
  const re = /\S+/g;
  let end = 0;
  for (let i = 0; i < n; i++) {
    const m = re.exec(text);
    if (!m) break;
    end = m.index + m[0].length;
  }
  return end;
}
