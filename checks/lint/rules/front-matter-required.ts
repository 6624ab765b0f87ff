import type { LintRule } from '../types.ts';

/** What a reader (and the quarterly validation) needs to trust a runbook: who owns it, how and when it was proven. */
export const REQUIRED_FRONT_MATTER = [
  'title',
  'owner',
  'backup-owner',
  'last-validated',
  'validation-method',
  'severity',
  'time-to-complete',
  'related-services',
] as const;

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);
}

export const frontMatterRequired: LintRule = {
  id: 'front-matter-required',
  description: `Front matter has every required key: ${REQUIRED_FRONT_MATTER.join(', ')}`,
  check({ runbook, report }) {
    const { data, keySpans, span } = runbook.frontMatter;
    const missing = REQUIRED_FRONT_MATTER.filter((key) => !(key in data));
    if (missing.length > 0) {
      const where = span ? { start: span.start, end: { line: span.start.line, column: 4 } } : { line: 1, column: 1 };
      report(`Unexpected front matter without ${missing.map((key) => `\`${key}\``).join(', ')}, expected every required key`, where, {
        expected: [...REQUIRED_FRONT_MATTER],
      });
    }
    for (const key of REQUIRED_FRONT_MATTER) {
      if (key in data && isEmpty(data[key])) report(`Unexpected empty \`${key}\`, expected a value`, keySpans[key]);
    }
  },
};
