import { expectedHint } from '../../../common/closest.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

/**
 * A kebab-case word is a claim about compose when it starts like the repo's own names do (`curateme-…`,
 * `backend-…`, `celery-…`): that tells `curateme-backend-b2b` apart from `graph-secret-2026-06` without a list.
 */
export const composeName: DriftRule = {
  id: 'drift-compose',
  description: 'Every compose service or container name the runbook mentions is in the platform compose files',
  check(context) {
    const { repo, report } = context;
    const known = new Set([...repo.compose.services, ...repo.compose.containers]);
    if (known.size === 0) return;
    const prefixes = new Set([...known].map((name) => name.split('-')[0]!));
    for (const project of repo.compose.projects) prefixes.add(project);
    for (const mention of mentionsOf(context, 'kebab')) {
      if (known.has(mention.text) || !prefixes.has(mention.text.split('-')[0]!)) continue;
      const hint = expectedHint(mention.text, known, `expected one of: ${[...known].sort().join(', ')}`);
      report(`Unexpected compose service or container \`${mention.text}\`, ${hint.text}`, mention.span, { actual: mention.text, expected: hint.expected ?? [...known] });
    }
  },
};
