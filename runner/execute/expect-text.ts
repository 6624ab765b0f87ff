/**
 * Matches a block's output against its documented `expect` text, line by line: a line `...` matches any run of lines
 * (none included), `[..]` matches any text within a line. Trailing whitespace and trailing blank lines are ignored, so
 * an editor's reformatting never fails a run.
 */
export interface ExpectMismatch {
  /** 0-based index of the expected line that did not match (or the first unmatched one). */
  expectedIndex: number;
  expected: string;
  actual: string | undefined;
}

function normalise(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const cache = new Map<string, RegExp>();
function linePattern(expected: string): RegExp {
  let pattern = cache.get(expected);
  if (!pattern) {
    const body = expected
      .split('[..]')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    pattern = new RegExp(`^${body}$`);
    cache.set(expected, pattern);
  }
  return pattern;
}

export function lineMatches(expected: string, actual: string): boolean {
  return expected.includes('[..]') ? linePattern(expected).test(actual) : expected === actual;
}

/** Returns undefined when `actualText` matches, else the first point of divergence (furthest the match got). */
export function matchExpected(expectedText: string, actualText: string): ExpectMismatch | undefined {
  const expected = normalise(expectedText);
  const actual = normalise(actualText);
  let furthest: ExpectMismatch = { expectedIndex: 0, expected: expected[0] ?? '', actual: actual[0] };
  const memo = new Set<number>();

  // Backtracking over `...` wildcards; memoised on (expected, actual) so pathological documents stay linear-ish.
  const match = (e: number, a: number): boolean => {
    const key = e * (actual.length + 1) + a;
    if (memo.has(key)) return false;
    if (e === expected.length) {
      if (a === actual.length) return true;
      if (e >= furthest.expectedIndex) furthest = { expectedIndex: e, expected: '(end of expected output)', actual: actual[a] };
      memo.add(key);
      return false;
    }
    const line = expected[e]!;
    if (line.trim() === '...') {
      for (let skip = a; skip <= actual.length; skip += 1) if (match(e + 1, skip)) return true;
      memo.add(key);
      return false;
    }
    if (a < actual.length && lineMatches(line, actual[a]!)) {
      if (match(e + 1, a + 1)) return true;
    } else if (e >= furthest.expectedIndex) {
      furthest = { expectedIndex: e, expected: line, actual: actual[a] };
    }
    memo.add(key);
    return false;
  };
  return match(0, 0) ? undefined : furthest;
}
