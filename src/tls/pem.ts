// PEM text split into its blocks (RFC 7468): certificates, private keys and what else a bundle holds.

/** One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block. */
export interface PemBlock {
  label: string;
  /** The block as written, BEGIN and END lines included (what node:crypto takes). */
  text: string;
  /** 1-based line of the BEGIN line, for messages. */
  line: number;
}

/** A PEM file that cannot be read as PEM: the reason names the line. */
export class PemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PemError";
  }
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----\s*$/;
const END = /^-----END ([A-Z0-9 ]+)-----\s*$/;
const BASE64 = /^[A-Za-z0-9+/=]*$/;

/**
 * Splits text into PEM blocks; text outside blocks (comments, haproxy's "Bag Attributes") is
 * skipped. RFC 7468 §2 allows headers such as Proc-Type (encrypted legacy keys) inside a
 * block: they are kept so the key parser can refuse them with its own message.
 * Throws PemError for a block without its END line, mismatched labels or non-base64 lines.
 */
export function splitPem(text: string): PemBlock[] {
  const lines = text.split(/\r?\n/);
  const out: PemBlock[] = [];
  let open: { label: string; line: number; body: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!open) {
      const b = BEGIN.exec(l);
      if (b) open = { label: b[1], line: i + 1, body: [l] };
      else if (END.test(l)) throw new PemError(`line ${i + 1}: END without BEGIN`);
      continue;
    }
    const e = END.exec(l);
    if (e) {
      if (e[1] !== open.label) throw new PemError(`line ${i + 1}: "END ${e[1]}" closes "BEGIN ${open.label}" of line ${open.line}`);
      open.body.push(l);
      out.push({ label: open.label, text: open.body.join("\n") + "\n", line: open.line });
      open = undefined;
      continue;
    }
    if (BEGIN.test(l)) throw new PemError(`line ${i + 1}: BEGIN inside the block that starts on line ${open.line}`);
    if (!BASE64.test(l) && !/^[A-Za-z-]+:/.test(l)) throw new PemError(`line ${i + 1}: not base64 inside "${open.label}"`);
    open.body.push(l);
  }
  if (open) throw new PemError(`line ${open.line}: "BEGIN ${open.label}" has no END line`);
  return out;
}

/** Labels of private keys: PKCS#8, and the legacy RSA and EC forms. */
export function isKeyLabel(label: string): boolean {
  return label === "PRIVATE KEY" || label === "RSA PRIVATE KEY" || label === "EC PRIVATE KEY";
}
