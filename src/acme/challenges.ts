// HTTP-01 answers (RFC 8555 §8.3): tokens the ACME client published, read by every HTTP session before any rule.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The path prefix the CA fetches (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
/** A token is base64url (RFC 8555 §8.1): anything else is not ours to answer. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Key authorizations by token. The ACME client adds one before telling the CA to validate and
 * removes it after. Each is also written under a directory (state_dir/acme/http-01), so proxy
 * worker processes, which share the listening port, answer the CA too.
 */
export class ChallengeStore {
  #tokens = new Map<string, string>();
  #dir: string | undefined;

  /** Where tokens are written and looked up (undefined: memory only). */
  useDirectory(dir: string | undefined): void {
    this.#dir = dir;
  }

  /** Publishes a token's key authorization. Throws when the directory cannot be written. */
  add(token: string, keyAuthorization: string): void {
    if (!TOKEN.test(token)) throw new Error(`"${token}" is not an ACME token`);
    this.#tokens.set(token, keyAuthorization);
    if (this.#dir !== undefined) {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(this.#dir, token), keyAuthorization, { mode: 0o600 });
    }
  }

  remove(token: string): void {
    this.#tokens.delete(token);
    if (this.#dir !== undefined && TOKEN.test(token)) rmSync(join(this.#dir, token), { force: true });
  }

  /** The key authorization for a request path, or undefined when the path is not a known token. */
  answer(path: string): string | undefined {
    if (!path.startsWith(CHALLENGE_PREFIX)) return undefined;
    const token = path.slice(CHALLENGE_PREFIX.length);
    if (!TOKEN.test(token)) return undefined;
    const known = this.#tokens.get(token);
    if (known !== undefined || this.#dir === undefined) return known;
    try {
      return readFileSync(join(this.#dir, token), "utf8");
    } catch {
      return undefined;
    }
  }
}

/** The process-wide store: the ACME client writes, HTTP sessions (and workers, via the directory) read. */
export const challenges = new ChallengeStore();
