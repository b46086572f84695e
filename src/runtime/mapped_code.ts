// Keeps the executable's code out of the resident set unless it runs: the tandem binary is ~115 MB,
// and a kernel that maps file pages in 2 MB folios makes most of it resident at start.

import { readFileSync, readlinkSync } from "node:fs";
import { requireFfi } from "./libc_node.ts";

const MADV_DONTNEED = 4;
const MADV_NOHUGEPAGE = 15;

/** One mapping of /proc/self/smaps. */
interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  anonymousKb: number;
}

function mappings(): Mapping[] {
  const out: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = { start: BigInt("0x" + head[1]), end: BigInt("0x" + head[2]), perms: head[3], path: head[4], anonymousKb: 0 };
      out.push(current);
    } else if (current && line.startsWith("Anonymous:")) current.anonymousKb = Number(/(\d+)/.exec(line)?.[1] ?? 0);
  }
  return out;
}

/**
 * Unmaps the resident pages of the executable's read-only, never-written mappings (code, constant
 * data) and asks the kernel to map them back one small page at a time, as they are used. With
 * transparent huge pages for files (ext4 large folios, THP "madvise"), the first touch of a 2 MB
 * region made all of it resident: ~70 MB of tandem's RSS at start was code it never runs. The
 * pages stay in the page cache (shared with the worker processes), so those it runs come back with
 * a minor fault. Mappings with private copies (relocated, "Anonymous" in smaps) are left alone:
 * dropping them would lose the changes. Linux and node:ffi only; returns the bytes unmapped, 0 when
 * it could not run (never throws).
 */
export function trimMappedCode(): number {
  if (process.platform !== "linux" || "Deno" in globalThis) return 0;
  try {
    const exe = readlinkSync("/proc/self/exe");
    const lib = requireFfi().dlopen(null as unknown as string, { madvise: { arguments: ["uint64", "uint64", "int32"], return: "int32" } } as never);
    const madvise = (lib.functions as unknown as Record<string, (addr: bigint, len: bigint, advice: number) => number>).madvise;
    let trimmed = 0n;
    for (const m of mappings()) {
      if (m.path !== exe || m.perms.includes("w") || m.anonymousKb !== 0) continue;
      const len = m.end - m.start;
      if (madvise(m.start, len, MADV_NOHUGEPAGE) === 0 && madvise(m.start, len, MADV_DONTNEED) === 0) trimmed += len;
    }
    return Number(trimmed);
  } catch {
    return 0;
  }
}
