// "Did you mean ...?" for misspelt keys and names (haproxy's cfg_find_best_match, in spirit).

/** Edit distance between a and b, counting a swap of two neighbours as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate to word, if close enough to be a plausible typo. */
export function bestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl.replace(/[-_]/g, "") === w.replace(/[-_]/g, "") ? 0 : editDistance(w, cl);
    const limit = Math.max(1, Math.floor(Math.max(w.length, cl.length) / 3));
    const prefix = cl.length >= 4 && w.length >= 4 && (cl.startsWith(w) || w.startsWith(cl));
    if ((d <= limit || prefix) && d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best;
}

/** A hint sentence for an unknown word, or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const m = bestMatch(word, candidates);
  return m === undefined ? undefined : `did you mean "${m}"?`;
}
