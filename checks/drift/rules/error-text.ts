import { codeContains } from '../repo-index.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

export const errorText: DriftRule = {
  id: 'drift-error-text',
  description: 'Every error text the runbook quotes (`RuntimeError: …`, raises "…") appears in the platform code',
  check(context) {
    for (const mention of mentionsOf(context, 'error-text')) {
      if (codeContains(context.repo, mention.errorText)) continue;
      context.report(`Unexpected error text "${mention.errorText}" that no platform code contains, expected the message as the code raises it`, mention.span, {
        actual: mention.errorText,
      });
    }
  },
};
