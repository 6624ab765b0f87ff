/** The candidate nearest to `word` by edit distance, when it is near enough to be a useful "expected" hint. */
export function closest(word: string, candidates: Iterable<string>, limit = Math.max(2, Math.floor(word.length / 3))): string | undefined {
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    // A renamed-by-extension name (`from_env` -> `from_environment`) is the likeliest meaning, however far.
    if (word.length >= 4 && candidate.length >= 4 && (candidate.startsWith(word) || word.startsWith(candidate)) && bestDistance > 1) {
      best = candidate;
      bestDistance = 1;
      continue;
    }
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = levenshtein(word, candidate, bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance, giving up (returning `cap`) once every path exceeds it: most candidates are far away. */
function levenshtein(a: string, b: string, cap: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= cap) return cap;
    previous = current;
  }
  return previous[b.length]!;
}

/** ", expected `x`" when there is a near candidate, else the fallback phrase. */
export function expectedHint(word: string, candidates: Iterable<string>, fallback: string): { text: string; expected?: string[] } {
  const near = closest(word, candidates);
  return near ? { text: `expected \`${near}\``, expected: [near] } : { text: fallback };
}
