import type { Runbook } from '../../../runner/model.ts';
import type { DriftRule } from '../types.ts';

const DAY_MS = 86_400_000;

function validatedOn(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Keys only a runbook's front matter has; a page's (`title`, `hide`) does not make it one. */
const RUNBOOK_KEYS = ['last-validated', 'review-every', 'validation-method', 'targets', 'default-target', 'backup-owner'];

/** A runbook is what `runbook run` would run or what says it is validated: freshness means nothing for other docs. */
export function isRunbook(runbook: Runbook): boolean {
  return runbook.blocks.length > 0 || RUNBOOK_KEYS.some((key) => key in runbook.frontMatter.data);
}

export const freshness: DriftRule = {
  id: 'drift-stale',
  description: '`last-validated` of a runbook is within `review-every` (default 90d; `--max-age DAYS` overrides); other documents have no freshness',
  check({ runbook, now, maxAgeDays, report }) {
    if (!isRunbook(runbook)) return;
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
