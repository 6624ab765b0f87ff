import type { DriftRule } from '../types.ts';

const DAY_MS = 86_400_000;

function validatedOn(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export const freshness: DriftRule = {
  id: 'drift-stale',
  description: '`last-validated` is within `review-every` (default 90d; `--max-age DAYS` overrides)',
  check({ runbook, now, maxAgeDays, report }) {
    const { data, keySpans, span, reviewEveryDays } = runbook.frontMatter;
    const limit = maxAgeDays ?? reviewEveryDays;
    const value = data['last-validated'];
    if (value === undefined) {
      report('Unexpected runbook with no `last-validated`, expected the date it was last validated (YYYY-MM-DD)', span?.start ?? { line: 1, column: 1 });
      return;
    }
    const date = validatedOn(value);
    if (!date) return; // The parser already reports a malformed date.
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const age = Math.floor((today - date.getTime()) / DAY_MS);
    if (age <= limit) return;
    const source = maxAgeDays !== undefined ? '--max-age' : 'review-every';
    report(
      `Unexpected last-validated ${String(value)} (${age} days ago), expected a validation within ${limit} days (${source})`,
      keySpans['last-validated'],
      { actual: String(value) },
    );
  },
};
