/**
 * "did you mean ...?" for a mistyped option or command: the closest known word by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours, each costing 1).
 */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known word closest to `word`, when it is close enough to be a typo (at most a third of
 * its letters wrong, and at most 3), or the only known word that starts with it.
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  if (best) return best.word;
  const prefixed = word.length >= 2 ? known.filter((candidate) => candidate.startsWith(word)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** "; did you mean --repo?" or "". */
export function didYouMean(word: string, known: readonly string[], prefix = ""): string {
  const match = closest(word, known);
  return match === undefined ? "" : `; did you mean ${prefix}${match}?`;
}
